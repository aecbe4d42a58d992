"""The public catalog's pages (no login): ``catalog`` (the home and category pages, searchable),
``courses`` (a course's page and its calendar file), with their ``forms`` and ``urls``."""

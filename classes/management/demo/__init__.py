"""The demo data set that ``manage.py seed_demo`` loads: the program's tables (``program``, ``data``),
turned into rows by ``courses`` (the current semester), ``next_semester``, ``orders`` (registrants,
payments, gifts) and ``maps`` (drawn venue maps); ``seed`` runs them all in one transaction."""

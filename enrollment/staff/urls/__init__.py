"""The URLs of enrollment's back-office pages, one module per page family (each its own namespace),
included by ``config.urls``: ``desk``, ``rosters`` and ``weekout``. The transfer page is routed by
``finance.staff_urls`` (the money namespace)."""

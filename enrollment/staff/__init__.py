"""The back-office pages of enrollment outside the model admin: the front desk (``desk``), rosters
and attendance (``rosters``), the week-out pages and call list (``weekout``), and transfers
(``transfer``); their forms (``staff.forms``) and urls (``staff.urls``, one module per family)."""

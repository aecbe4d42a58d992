"""Finance's back-office pages outside the model admin, under /staff/money/ (``urls``), one
module per page family: ``refunds``, ``deposits`` (the daily deposit report, with its reads in
``deposit_report``), ``donations`` (taken at the desk) and ``fund`` (Pass the Buck: report,
ledger, adjustment, with its reads in ``fund_reports``); their forms are in ``forms``, what they
share in ``base``."""

"""The program's numbers, read-only: figures read across classes, enrollment and finance together
(attendance, income, reach, the board report to come), shown on staff pages and exported. It
stores nothing that could be derived: every figure is an aggregate of the facts in the apps below
it, and ``reports`` sits at the top of the import order (core <- classes <- enrollment <-
instructors <- finance <- reports), so it may read them all and nothing imports it.

The staff dashboard of the back office's first page lives here (``reports.selectors``, rendered
by the ``staff_dashboard`` template tag in ``templates/admin/index.html``): it reads this week's
classes, courses near their cutoff, holds and waitlists (enrollment), refunds to issue and the
fund (finance) and undelivered messages (core) together. In finance it could only be an
"entry point" by exception; in reports its reads sit above every app they read.

Finance's own reports stay in finance: the daily deposit report (``finance.staff.deposit_report``)
ties out the cash and checks staff handled, and the Pass the Buck reports
(``finance.staff.fund_reports``) read only the fund's ledger and donations.
"""

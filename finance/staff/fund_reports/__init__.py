"""Pass the Buck reports: reads of the fund's ledger and of the donations, for the staff pages
under /staff/money/fund/ (``finance.staff.fund``). Nothing here writes. One package, one module
per report family: ``balance`` (balance over time, donations by month, the ledger), ``awards``
and ``donors``; every name is importable from here.

- ``fund_balance_over_time``: the balance at the start of a date range, then per month (or per
  day) the donations, awards, returns and adjustments booked in the ledger and the balance at the
  end of the period. Amounts keep the ledger's sign (awards are negative), so each period's
  ``opening + donations + awards + returns + adjustments == closing``; the entries booked after
  the range give ``current``, which always equals ``fund_balance()``.
- ``fund_donations_by_month``: succeeded ``Donation`` records per month and method (cash, check,
  card). These are the gifts with a donor behind them (desk and donation page); the balance
  table's "donations" column is the ledger's, which counts every donation entry.
- ``fund_awards_by_course``: the scholarship awards made in the range, per semester and course,
  with how many of them went back to the fund since (cancelled registrations or courses), the net
  paid and the seats funded (awards not returned). Never the attendee: a course and counts only.
- ``fund_donors``: the donors of the range for thank-you letters, one line per donor (the same
  name with the same e-mail, or without one the same postal address): gifts, total, first and
  last gift, dedications, receipt numbers, and ``anonymous`` when any gift of theirs asked for it.
  The letters are written by staff, so the list keeps the name and address of an anonymous donor
  (the thank-you is theirs) and flags it "anonymous: do not publish".
- ``fund_names_for_publication``: the names a newsletter or a donor wall may print: every donor
  of the range *except* those who asked for anonymity on any gift in it — they are left off
  entirely — with no amounts.
- ``fund_ledger``: every entry, newest first, with the balance after it.

Days and months are the program's local ones (``TIME_ZONE``, America/Chicago). Money is
``Decimal``. Each function runs a fixed number of queries whatever the number of entries,
donations or courses (the tests check it). The ``*_csv_rows`` functions are the CSV exports;
text cells go through ``deposit_report.csv_text`` so a spreadsheet never runs one as a formula.
"""

from .awards import AWARDS_HEADER, AwardLine, AwardsReport, SemesterAwards, awards_csv_rows, fund_awards_by_course
from .balance import (
    BALANCE_HEADER,
    DAY,
    DONATIONS_HEADER,
    MAX_DAYS,
    MAX_MONTHS,
    MONTH,
    BalancePeriod,
    BalanceReport,
    DonationMonth,
    DonationsReport,
    MethodTotals,
    balance_csv_rows,
    donations_csv_rows,
    fund_balance_over_time,
    fund_donations_by_month,
    fund_ledger,
    months_between,
)
from .donors import (
    ANONYMOUS_FLAG,
    DONORS_HEADER,
    PUBLICATION_HEADER,
    Donor,
    PublicName,
    donors_csv_rows,
    fund_donors,
    fund_names_for_publication,
    publication_csv_rows,
)

__all__ = [
    "ANONYMOUS_FLAG", "AWARDS_HEADER", "BALANCE_HEADER", "DAY", "DONATIONS_HEADER", "DONORS_HEADER", "MAX_DAYS",
    "MAX_MONTHS", "MONTH", "PUBLICATION_HEADER", "AwardLine", "AwardsReport", "BalancePeriod", "BalanceReport",
    "DonationMonth", "DonationsReport", "Donor", "MethodTotals", "PublicName", "SemesterAwards", "awards_csv_rows",
    "balance_csv_rows", "donations_csv_rows", "donors_csv_rows", "fund_awards_by_course", "fund_balance_over_time",
    "fund_donations_by_month", "fund_donors", "fund_ledger", "fund_names_for_publication", "months_between",
    "publication_csv_rows",
]

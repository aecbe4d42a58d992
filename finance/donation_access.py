"""Who may open a donation's page and its receipt PDF (``/staff/money/donations/<pk>/``).

Donations — donor, amount, check number, dedication, whether they asked to stay anonymous — are
for Finance and the program coordinator (``finance.view_donation``). The clerk who records a cash
or check donation at the desk (``finance.take_offline_payment``) may open that one donation's
page and print its receipt right after, and nothing else: recording it puts a grant for its id,
with an end time, in the clerk's own session. The grant opens the donation only for the staff
member who recorded it (``Donation.taken_by``), only in that session and only until it ends.
"""

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime

VIEW_DONATION = "finance.view_donation"
SESSION_KEY = "donation_receipt_grants"
#: How long after recording a donation its clerk may reopen it (print, download the receipt).
GRANT_FOR = dt.timedelta(minutes=15)


def _live(grants: dict, now: dt.datetime) -> dict:
    live = {}
    for pk, until in grants.items():
        ends = parse_datetime(until) if isinstance(until, str) else None
        if ends is not None and ends > now:
            live[pk] = until
    return live


def donation_grant(request, donation) -> None:
    """After ``request.user`` recorded ``donation``: let them reopen it for ``GRANT_FOR``."""
    now = timezone.now()
    grants = _live(request.session.get(SESSION_KEY) or {}, now)
    grants[str(donation.pk)] = (now + GRANT_FOR).isoformat()
    request.session[SESSION_KEY] = grants


def donation_may_open(request, donation) -> bool:
    """Finance and the coordinator: any donation. Anyone else: only one they recorded
    themselves, with a live grant in this session."""
    user = request.user
    if user.has_perm(VIEW_DONATION):
        return True
    if donation.taken_by_id is None or donation.taken_by_id != user.pk:
        return False
    grants = request.session.get(SESSION_KEY) or {}
    return str(donation.pk) in _live(grants, timezone.now())

import datetime as dt
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from core.models import OutboxMessage, SiteOptions
from enrollment.services import holds_expire, registration_cancel
from finance.balances import order_balance
from finance.models import Refund
from finance.selectors import registration_paid
from finance.services import payment_confirm, payment_start, refunds_settle
from finance.services.fund import fund_balance, fund_returns_sweep
from finance.services.scholarships import checkout_place, scholarship_wait_join, scholarship_waits_offer
from finance.services.staff import refund_create, refund_limits
from tests.factories import course_with_meetings

from .scholarship_helpers import buyer, donate, install_fake_stripe, seat, succeeded_total

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _so():
    SiteOptions.current()


def test_late_payment(monkeypatch):
    fake = install_fake_stripe(monkeypatch)
    now = timezone.now()
    course = course_with_meetings(fee=D("25.00"))
    donate("12.50")
    r = checkout_place(buyer=buyer(), attendees=[seat(course)], now=now).registrations[0]
    payment, _ = payment_start(order=r.order, now=now)
    later = r.expires_at + dt.timedelta(minutes=1)
    holds_expire(now=later)
    fund_returns_sweep(now=later)
    fake.intents[payment.reference].status = "succeeded"
    payment_confirm(payment_intent_id=payment.reference, now=later)
    r.refresh_from_db()
    print("status", r.status, "paid", registration_paid(r), "succ", succeeded_total(r), "fund", fund_balance(),
          "refunds", list(Refund.objects.values_list("amount", "status", "dedupe_key")))


def test_staff_refund():
    now = timezone.now()
    course = course_with_meetings(fee=D("25.00"))
    donate("12.50")
    from finance.services.offline import desk_register
    u = User.objects.create_superuser("c", "c@x.org", "pw-long-123456")
    res = desk_register(buyer=buyer(), attendees=[seat(course)], provider="cash", actor=u, now=now)
    r = res.registrations[0]
    print(refund_limits(r))
    made = refund_create(registration=r, amount=D("25.00"), reason="goodwill", override_reason="x", actor=u, now=now)
    print([(x.payment.provider, x.amount, x.status) for x in made])


def test_cancel_emails():
    now = timezone.now()
    course = course_with_meetings(fee=D("25.00"))
    donate("12.50")
    from finance.services.offline import desk_register
    u = User.objects.create_superuser("c", "c@x.org", "pw-long-123456")
    res = desk_register(buyer=buyer(), attendees=[seat(course)], provider="cash", actor=u, now=now)
    r = res.registrations[0]
    registration_cancel(registration_id=r.pk, now=now)
    print(OutboxMessage.objects.get(template="registration_cancelled").body_text)
    print([(x.payment.provider, x.amount) for x in refunds_settle(registration_id=r.pk, now=now)])


def test_after_cutoff():
    now = timezone.now()
    course = course_with_meetings(fee=D("25.00"))
    donate("12.50")
    from finance.services.offline import desk_register
    u = User.objects.create_superuser("c", "c@x.org", "pw-long-123456")
    res = desk_register(buyer=buyer(), attendees=[seat(course)], provider="cash", actor=u, now=now)
    r = res.registrations[0]
    after = course.registration_closes_at + dt.timedelta(hours=1)
    registration_cancel(registration_id=r.pk, now=after)
    print(refunds_settle(registration_id=r.pk, now=after))
    print("fund", fund_balance(), "balance", order_balance(r.order))


def test_expired_counts(monkeypatch):
    now = timezone.now()
    from tests.factories import SemesterFactory
    sem = SemesterFactory()
    a = course_with_meetings(semester=sem, fee=D("20.00"))
    b = course_with_meetings(semester=sem, fee=D("20.00"))
    donate("20.00")
    checkout_place(buyer=buyer(), attendees=[seat(a)], now=now)
    r = checkout_place(buyer=buyer(), attendees=[seat(b)], now=now).registrations[0]
    later = r.expires_at + dt.timedelta(minutes=1)
    try:
        checkout_place(buyer=buyer(), attendees=[seat(b)], now=later)
        print("ok retry")
    except Exception as e:
        print("retry refused:", type(e).__name__, e)


def test_rejoin(monkeypatch):
    now = timezone.now()
    course = course_with_meetings(fee=D("25.00"))
    scholarship_wait_join(buyer=buyer(), attendee=seat(course), now=now)
    donate("12.50")
    (w,) = scholarship_waits_offer(now=now)
    reg = w.order.registrations.get()
    later = reg.expires_at + dt.timedelta(minutes=1)
    holds_expire(now=later)
    fund_returns_sweep(now=later)
    w2 = scholarship_wait_join(buyer=buyer(), attendee=seat(course), now=later)
    print("rejoin", w2.pk == w.pk, w2.status)
    print("offer again", scholarship_waits_offer(now=later))


def test_transfer():
    now = timezone.now()
    a = course_with_meetings(fee=D("25.00"))
    b = course_with_meetings(fee=D("25.00"))
    donate("12.50")
    from enrollment.services import registration_transfer
    from finance.services.offline import desk_register
    from finance.services.staff import transfer_settle
    u = User.objects.create_superuser("c", "c@x.org", "pw-long-123456")
    res = desk_register(buyer=buyer(), attendees=[seat(a)], provider="cash", actor=u, now=now)
    old = res.registrations[0]
    old2, new = registration_transfer(registration_id=old.pk, to_course_id=b.pk, now=now, actor=u)
    print(transfer_settle(old=old2, new=new, now=now))
    print("paid new", registration_paid(new), "fund_paid", new.fund_paid, "balance", order_balance(new.order))
    registration_cancel(registration_id=new.pk, now=now)
    made = refunds_settle(registration_id=new.pk, now=now)
    print([(x.payment.provider, x.amount) for x in made], "fund", fund_balance(), "balance", order_balance(new.order))


def test_peek(staff_client, monkeypatch):
    import re
    from django.urls import reverse
    from django.contrib.auth.models import Group, Permission
    from django.test import Client
    from core.roles import FRONT_DESK, roles_sync
    roles_sync(Group, Permission)
    u = User.objects.create_user("desk", "d@x.org", "pw-long-123456", is_staff=True)
    u.groups.add(Group.objects.get(name=FRONT_DESK))
    cl = Client(); cl.force_login(u)
    c = course_with_meetings(fee=D("25.00"))
    donate("12.50")
    from finance.services.offline import desk_register
    r = desk_register(buyer=buyer(), attendees=[seat(c)], provider="cash", actor=u).registrations[0]
    registration_cancel(registration_id=r.pk)
    refunds_settle(registration_id=r.pk)
    for name in ("desk:order", "desk:order-receipt"):
        t = cl.get(reverse(name, args=[r.order.pk])).content.decode()
        for m in re.finditer(r"pass the buck|library credit|12\.50", t, re.I):
            print(name, repr(re.sub(r"\s+", " ", t[max(0, m.start()-200):m.end()+60])))

"""In-process figures of the patron's checkout, the payment page and return, and the front desk
(issue 12, item 3): queries, wall and CPU milliseconds per request, response size. Not a test: it
asserts only that each step did what it should, and prints the figures.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/pytest bench/checkout_paths.py -q -s -p no:cacheprovider

Production-like: the base settings' caches and session engine (Redis when REDIS_URL is set),
DEBUG off, the real e-mail templates, a real localstripe server (its HTTP time is in the wall
figure, not in the CPU figure). N requests each; the median is printed. ``PRINT_SQL=1`` prints
every query; ``PROFILE=1`` profiles a desk GET.

Last run (2 shared cores, main 676bedd run from a copy, then this branch; N=12, median):

    path                                   queries     CPU ms (wall)        size
    checkout POST, 1 seat                  30 -> 17    18.5 -> 14.4 (40.7 -> 24.4)
    checkout POST, 4 seats in 4 classes    39 -> 20    26.8 -> 21.6 (43.2 -> 37.2)
    pay page, 1 seat                       17 -> 14    14.2 -> 13.6 (27.0 -> 23.7)
    pay page, 4 seats                      20 -> 14    16.0 -> 14.1 (28.6 -> 23.8)
    card return, 1 seat                    35 -> 24    21.6 -> 16.7 (37.4 -> 28.5)
    card return, 4 seats                   65 -> 30    39.1 -> 25.6 (58.9 -> 41.2)
    desk GET, 51 classes                    5 -> 4     35.6 -> 24.8 (46.2 -> 34.0)    55.4 -> 54.6 KB
    desk GET, 510 classes                   5 -> 4    315.2 -> 57.0 (395.9 -> 78.2)  297.5 -> 289.5 KB
    desk POST cash 1 seat, 51 classes      52 -> 43    34.7 -> 30.3 (48.6 -> 47.4)
    desk POST cash 1 seat, 510 classes     52 -> 43    69.9 -> 30.5 (120.0 -> 43.9)
    compose confirmation, 4 seats/2 cls    10 -> 4      8.6 -> 6.7 (11.9 -> 8.8)
"""

import datetime as dt
import os
import statistics
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import config.settings.base as base_settings
from core import tasks as core_tasks
from core.models import SiteOptions
from enrollment.messages import patron as patron_messages
from enrollment.models import Order, ReferralSource
from tests.factories import SemesterFactory, VenueFactory, course_with_meetings, local_dt, today
from tests.localstripe_server import browser, localstripe_server, stripe_settings  # noqa: F401

N = int(os.environ.get("N", "12"))


def word(i: int) -> str:
    """A name part from a number (names take letters only)."""
    return "".join("abcdefghij"[int(d)] for d in str(i)).title()
CHECKOUT = reverse("enrollment:checkout")


@pytest.fixture(autouse=True)
def _production_like(settings, monkeypatch):
    settings.CACHES = base_settings.CACHES
    settings.SESSION_ENGINE = getattr(base_settings, "SESSION_ENGINE", "django.contrib.sessions.backends.db")
    for name in ("SESSION_CACHE_ALIAS",):
        if hasattr(base_settings, name):
            setattr(settings, name, getattr(base_settings, name))
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *a, **k: None)


def report(name: str, runs: list[tuple[float, float, int, int]]) -> None:
    wall = statistics.median(r[0] for r in runs) * 1000
    cpu = statistics.median(r[1] for r in runs) * 1000
    queries = runs[-1][2]
    size = runs[-1][3]
    print(f"\n{name:<42} queries {queries:>3}   wall {wall:6.1f} ms   cpu {cpu:6.1f} ms   {size / 1024:6.1f} KB")


def timed(call):
    with CaptureQueriesContext(connection) as ctx:
        w, c = time.perf_counter(), time.process_time()
        response = call()
        w, c = time.perf_counter() - w, time.process_time() - c
    if os.environ.get("PRINT_SQL"):
        print("\n".join(f"  {q['sql'][:230]}" for q in ctx.captured_queries))
    return response, (w, c, len(ctx), len(response.content))


def courses(n: int, *, semester=None):
    semester = semester or SemesterFactory(is_published=True)
    venue = VenueFactory(capacity=5000)
    first = local_dt(today() + dt.timedelta(days=21), 18, 30)
    return [course_with_meetings(semester=semester, venue=venue, capacity=2000, fee=Decimal("25.00"), weekly=3,
                                 first=first + dt.timedelta(hours=i % 5), title=f"Course {i:03d}")
            for i in range(n)]


def _referral() -> str:
    source = ReferralSource.objects.filter(active=True).first() or ReferralSource.objects.create(name="A friend")
    return str(source.pk)


def _form(client) -> dict:
    from tests.enrollment.test_checkout_views import rendered_form

    return rendered_form(client.get(CHECKOUT))


def checkout_post(cs, i: int):
    """A fresh browser: the classes into the cart, the checkout page, then the timed POST."""
    client = Client()
    for c in cs:
        client.post(reverse("enrollment:cart-add"), {"course": c.pk})
    data = _form(client)
    data.update({"buyer-first_name": "Jordan", "buyer-last_name": "Buyer", "buyer-email": f"b{i}@example.org",
                 "buyer-phone": "785-555-0100", "action": "place",
                 "buyer-referral": _referral()})
    for k in range(len(cs)):
        data[f"class{k}-attendee0-first_name"] = f"Alex{word(i)}"
        data[f"class{k}-attendee0-last_name"] = "Reader"
    response, run = timed(lambda: client.post(CHECKOUT, data))
    assert response.status_code == 302, [line for line in response.content.decode().splitlines() if "error" in line.lower()][:20]
    return client, response, run


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seats", [1, 4])
def test_checkout_pay_and_return(seats, browser):  # noqa: F811
    SiteOptions.current()
    cs = courses(seats)
    courses(40)  # the rest of the program
    posts, pays, returns = [], [], []
    for i in range(N):
        client, response, run = checkout_post(cs, i)
        posts.append(run)
        order = Order.objects.order_by("-pk").first()
        pay, run = timed(lambda: client.get(reverse("finance:pay", args=[order.pk])))  # noqa: B023
        assert pay.status_code == 200
        pays.append(run)
        payment = pay.context["payment"]
        card = browser.card()
        client.post(reverse("finance:pay-local-confirm", args=[order.pk]),
                    {"payment_intent": payment.reference, "payment_method": card})
        url = reverse("finance:payment-return", args=[order.pk]) + f"?payment_intent={payment.reference}"
        back, run = timed(lambda: client.get(url))  # noqa: B023
        assert back.status_code == 302 and back["Location"] == reverse("enrollment:order-confirmation", args=[order.pk]), back
        returns.append(run)
        # the pay page again, now paid (what a reload costs): not timed
    report(f"checkout POST, {seats} seat(s)", posts[2:])
    report(f"pay page GET, {seats} seat(s)", pays[2:])
    report(f"card return GET, {seats} seat(s)", returns[2:])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("program", [51, 510])
def test_desk(program, django_user_model):
    SiteOptions.current()
    cs = courses(program)
    user = django_user_model.objects.create_superuser("coord", "c@example.org", "a-long-passw0rd")
    client = Client()
    client.force_login(user)
    gets, posts = [], []
    for i in range(N):
        page, run = timed(lambda: client.get("/staff/desk/register/"))
        assert page.status_code == 200
        gets.append(run)
        data = {
            "nonce": f"{i:032x}", "rows": "4",
            "buyer-first_name": "Jordan", "buyer-last_name": "Buyer", "buyer-email": f"d{i}@example.org",
            "buyer-phone": "785-555-0100", "buyer-street_address": "", "buyer-city_state_zip": "",
            "pay-provider": "cash", "pay-amount": "", "pay-reference": "", "pay-payer": "",
            "row0-course": str(cs[i % 7].pk), "row0-first_name": f"Sam{word(i)}", "row0-last_name": "Reader",
            "row0-relationship": "self",
        }
        response, run = timed(lambda: client.post("/staff/desk/register/", data))  # noqa: B023
        assert response.status_code == 302, response.content[:3000]
        posts.append(run)
    report(f"desk GET register, {program} courses", gets[2:])
    report(f"desk POST register (cash, 1 seat), {program}", posts[2:])


@pytest.mark.django_db(transaction=True)
def test_compose_confirmation(monkeypatch):
    """Composing the confirmation (context, templates, calendar files) alone, 4 seats in 2 classes."""
    from enrollment.services import AttendeeInput, BuyerInput, order_place

    SiteOptions.current()
    cs = courses(2)
    result = order_place(buyer=BuyerInput(first_name="J", last_name="B", email="j@example.org"),
                         attendees=[AttendeeInput(course_id=c.pk, first_name=f"A{k}", last_name="R")
                                    for c in cs for k in range(2)])
    regs = result.registrations
    for r in regs:
        r.confirmed_at = r.created_at
    monkeypatch.setattr(patron_messages, "outbox_enqueue", _render_only)
    runs = []
    for _ in range(N):
        order = Order.objects.get(pk=result.order.pk)
        with CaptureQueriesContext(connection) as ctx:
            w, c = time.perf_counter(), time.process_time()
            patron_messages.queue_confirmation(order, regs)
            w, c = time.perf_counter() - w, time.process_time() - c
        runs.append((w, c, len(ctx), 0))
    report("compose confirmation, 4 seats / 2 classes", runs[2:])


def _render_only(*, to, template, context, dedupe_key, attachments=None):
    from core.outbox import _render

    _render(template, context)


@pytest.mark.django_db(transaction=True)
def test_profile_desk_get(django_user_model):
    """``PROFILE=1``: where a desk GET's time goes (cProfile, top 25 by cumulative time)."""
    if not os.environ.get("PROFILE"):
        pytest.skip("PROFILE=1 to run")
    import cProfile
    import pstats

    SiteOptions.current()
    courses(51)
    user = django_user_model.objects.create_superuser("coord", "c@example.org", "a-long-passw0rd")
    client = Client()
    client.force_login(user)
    client.get("/staff/desk/register/")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(5):
        client.get("/staff/desk/register/")
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(40)

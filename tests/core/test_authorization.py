"""The back office's authorization matrix: for each staff role (``core.roles``), every back-office
page and action it must not have answers 403 (or is absent: 404), and every one it must have
works; anonymous users, patrons and instructors (no staff account), a former staff member
(``is_staff`` unset, still in a group) and a deactivated one are sent to the back-office login.

The pages are every admin page of every registered model (changelist, add, change, history,
delete), the admin's own pages (dashboard, app indexes, password change, autocomplete…), and every
URL of the ``desk``, ``rosters``, ``money`` (with the transfer page) and ``weekout`` namespaces.
``test_every_staff_url_is_in_the_matrix`` walks the real URLconf and
``test_every_admin_model_is_in_the_matrix`` the admin's registry: a new /staff/ URL, or a new model
in the admin, fails them until the tables below classify it.

Who may do what is ``core/roles.py``: the coordinator everything; the front desk desk registrations,
cash and check, rosters, attendance and the week-out call list, no refunds and no money reports;
finance payments (cash and check at an order, too), refunds, the deposit report and the Pass the
Buck fund's reports, ledger and adjustments.

Each (role, page) and (role, action) is its own test. Actions are POSTs that change state: a
refused one answers 403 *and* changes nothing; an allowed one changes what it should (so a 403 is
never the accidental result of a bad form).
"""

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from urllib.parse import quote, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from classes.models import Course, Meeting
from core import tasks as core_tasks
from core.models import OutboxMessage, SiteOptions
from core.roles import COORDINATOR, FINANCE, FRONT_DESK, roles_sync
from enrollment.models import (
    Attendance,
    CallListEntry,
    CourseDecision,
    EnrollmentOptions,
    Order,
    ReferralSource,
    Registration,
    ScholarshipWait,
)
from enrollment.services import registration_cancel
from finance.models import Donation, FundEntry, Payment, Refund
from tests.factories import (
    AccessAttemptFactory,
    AccessFailureLogFactory,
    AccessLogFactory,
    CallListEntryFactory,
    CourseDecisionFactory,
    DonationFactory,
    FundEntryFactory,
    OutboxMessageFactory,
    PaymentFactory,
    RefundFactory,
    RegistrationFactory,
    ScholarshipWaitFactory,
    StripeEventFactory,
    course_with_meetings,
    local_dt,
    today,
)

pytestmark = pytest.mark.django_db

C, D, F = "coordinator", "front_desk", "finance"
STAFF = (C, D, F)
ROLE_GROUP = {C: COORDINATOR, D: FRONT_DESK, F: FINANCE}
LETTER = {C: "C", D: "D", F: "F"}  # the tables' shorthand
#: People who must never get past the back-office login.
VISITORS = ("anonymous", "patron", "former_staff", "deactivated_staff")
#: Anonymous users and patrons are tried on every page; the former and deactivated staff accounts
#: (the same check in ``admin_view``: ``is_active and is_staff``) on one page of each kind, and on
#: every action.
EVERY_PAGE = ("anonymous", "patron")
LOGIN = "/staff/login/"
PASSWORD = "a-long-passw0rd"


# --- the data every page is opened with ------------------------------------------------------------

@dataclass
class World:
    semester: object
    course: Course  # first meeting yesterday: roster and attendance
    meeting: Meeting  # yesterday's meeting (attendance can be taken)
    target: Course  # open, meetings weeks away: desk registrations, transfers
    order: Order  # one confirmed registration, paid by check
    registration: Registration
    payment: Payment
    due_order: Order  # a desk order with the balance still due
    cancelled: Registration  # cancelled before the cutoff, paid by check: refundable within policy
    refund: Refund  # a cash refund still to issue
    outbox: OutboxMessage  # a failed e-mail
    referral: ReferralSource
    stripe_event: object
    site_options: SiteOptions
    enrollment_options: EnrollmentOptions
    decision: CourseDecision  # a week-out decision
    call: CallListEntry  # a registrant without e-mail to phone, not called yet
    fund_entry: FundEntry  # a donation to Pass the Buck
    donation: Donation  # a cash donation taken at the desk
    scholarship_wait: ScholarshipWait  # an attendee on the scholarship waitlist
    clerk: User  # a staff member without a role (the target of the user-admin actions)
    people: dict[str, User]  # who opens the pages: one user per role and per visitor (not anonymous)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: None)


def _build_world() -> World:
    course = course_with_meetings(title="Bread Baking", first=local_dt(today() - dt.timedelta(days=1), 18, 30),
                                  weekly=3, fee=Decimal("25.00"))
    target = course_with_meetings(title="Knife Skills", semester=course.semester,
                                  first=local_dt(today() + dt.timedelta(days=21), 18, 30), weekly=2,
                                  fee=Decimal("25.00"))
    registration = RegistrationFactory(course=course)
    payment = PaymentFactory(order=registration.order, provider=Payment.Provider.CHECK, amount=Decimal("25.00"),
                             reference="1042", registrations=[registration])
    due = RegistrationFactory(course=target)
    cancelled = RegistrationFactory(course=target)
    PaymentFactory(order=cancelled.order, provider=Payment.Provider.CHECK, amount=Decimal("25.00"),
                   registrations=[cancelled])
    cancelled = registration_cancel(registration_id=cancelled.pk, actor_label="staff", reason="Moved away")
    refunded = RegistrationFactory(course=target, status=Registration.Status.CANCELLED)
    cash = PaymentFactory(order=refunded.order, provider=Payment.Provider.CASH, amount=Decimal("25.00"),
                          reference="", registrations=[refunded])
    refund = RefundFactory(payment=cash, registration=refunded, amount=Decimal("25.00"))
    clerk = User.objects.create_user("clerk", "clerk@library.example", PASSWORD, is_staff=True)
    return World(
        semester=course.semester, course=course, meeting=course.meetings.order_by("starts_at").first(),
        target=target, order=registration.order, registration=registration, payment=payment,
        due_order=due.order, cancelled=cancelled, refund=refund, outbox=OutboxMessageFactory(),
        referral=ReferralSource.objects.get_or_create(name="A friend")[0], stripe_event=StripeEventFactory(),
        site_options=SiteOptions.current(), enrollment_options=EnrollmentOptions.current(),
        decision=CourseDecisionFactory(), call=CallListEntryFactory(), fund_entry=FundEntryFactory(), donation=DonationFactory(),
        scholarship_wait=ScholarshipWaitFactory(course=target),
        clerk=clerk,
        people={who: _person(who) for who in (*STAFF, *VISITORS) if who != "anonymous"},
    )


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """The world, built once for the module inside a transaction rolled back at its end (each test
    runs in a savepoint within it, as with ``TestCase.setUpTestData``)."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = _build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def world(_world, db) -> World:
    """A fresh copy of the module's world for one test (tests change rows, rolled back after each)."""
    return copy.deepcopy(_world)


def group(role: str) -> Group:
    if not Group.objects.filter(name=ROLE_GROUP[role]).exists():
        roles_sync(Group, Permission)
    return Group.objects.get(name=ROLE_GROUP[role])


def _person(who: str) -> User:
    """A staff member in one role's group (``is_staff``, as the back office's staff accounts are); a
    patron or instructor (an account without ``is_staff``); a former staff member (``is_staff``
    unset, still in the coordinators' group); a deactivated coordinator (``is_active`` unset)."""
    user = User.objects.create_user(who, f"{who}@library.example", PASSWORD,
                                    is_staff=who in STAFF or who == "deactivated_staff",
                                    is_active=who != "deactivated_staff")
    if who in STAFF:
        user.groups.add(group(who))
    elif who in ("former_staff", "deactivated_staff"):
        user.groups.add(group(C))  # the group alone, or an inactive account, opens nothing
    return user


def login_as(client, world: World, who: str) -> None:
    """Log the client in as ``who`` (a deactivated account's session is anonymous on its next request)."""
    if who != "anonymous":
        client.force_login(world.people[who])


# --- the matrix: pages --------------------------------------------------------------------------------

#: The admin pages of each registered model, and who may open them; "CDF" = coordinator, front desk,
#: finance. Those not listed get 403. Columns: changelist, add, change, history, delete.
ADMIN_ACTIONS = ("changelist", "add", "change", "history", "delete")
ADMIN_MODELS: dict[str, tuple[str, str, str, str, str]] = {
    #                               changelist  add  change  history  delete
    "auth.group":                   ("C",       "",  "C",    "C",     ""),  # read-only: a superuser's (test_user_admin)
    "auth.user":                    ("C",       "C", "C",    "C",     "C"),
    "core.siteoptions":             ("C",       "",  "C",    "C",     ""),  # one row: no add, no delete
    "core.outboxmessage":           ("C",       "",  "C",    "C",     ""),
    "classes.instructor":           ("CD",      "C", "CD",   "CD",    "C"),
    "classes.semester":             ("CDF",     "C", "CDF",  "CDF",   "C"),
    "classes.category":             ("CD",      "C", "CD",   "CD",    "C"),
    "classes.venue":                ("CD",      "C", "CD",   "CD",    "C"),
    "classes.course":               ("CDF",     "C", "CDF",  "CDF",   "C"),
    "enrollment.enrollmentoptions": ("C",       "",  "C",    "C",     ""),  # one row: no add, no delete
    "enrollment.referralsource":    ("C",       "C", "C",    "C",     ""),  # retired, never deleted
    "enrollment.order":             ("CDF",     "",  "CDF",  "CDF",   ""),  # placed by the seat service
    "enrollment.registration":      ("CDF",     "",  "CDF",  "CDF",   ""),
    "enrollment.coursedecision":    ("CD",      "",  "CD",   "CD",    ""),  # made by the week-out run
    "enrollment.calllistentry":     ("CD",      "",  "CD",   "CD",    ""),  # marked on weekout:calls
    "finance.payment":              ("CF",      "",  "CF",   "CF",    ""),  # read-only
    "finance.refund":               ("CF",      "",  "CF",   "CF",    ""),
    "finance.stripeevent":          ("CF",      "",  "CF",   "CF",    ""),
    "finance.fund":                 ("CF",      "",  "CF",   "CF",    ""),  # the ledger: read-only
    "finance.fundentry":            ("CF",      "",  "CF",   "CF",    ""),  # never edited or deleted
    "finance.donation":             ("CF",      "",  "CF",   "CF",    ""),  # read-only; taken on money:donation-create
    "enrollment.scholarshipwait":   ("CF",      "",  "CF",   "CF",    ""),  # read-only; never the front desk
    # staff login lockouts (django-axes): the coordinator sees them and clears one by deleting it
    "axes.accessattempt":           ("C",       "",  "C",    "C",     "C"),
    "axes.accesslog":               ("C",       "",  "C",    "C",     ""),
    "axes.accessfailurelog":        ("C",       "",  "C",    "C",     ""),
}

#: The object whose change/history/delete pages are opened, per model.
ADMIN_OBJECT: dict[str, Callable[[World], object]] = {
    "auth.group": lambda w: Group.objects.get(name=FRONT_DESK),
    "auth.user": lambda w: w.clerk,
    "core.siteoptions": lambda w: w.site_options,
    "core.outboxmessage": lambda w: w.outbox,
    "classes.instructor": lambda w: w.course.instructor,
    "classes.semester": lambda w: w.semester,
    "classes.category": lambda w: w.course.category,
    "classes.venue": lambda w: w.course.venue,
    "classes.course": lambda w: w.course,
    "enrollment.enrollmentoptions": lambda w: w.enrollment_options,
    "enrollment.referralsource": lambda w: w.referral,
    "enrollment.order": lambda w: w.order,
    "enrollment.registration": lambda w: w.registration,
    "enrollment.coursedecision": lambda w: w.decision,
    "enrollment.calllistentry": lambda w: w.call,
    "finance.payment": lambda w: w.payment,
    "finance.refund": lambda w: w.refund,
    "finance.stripeevent": lambda w: w.stripe_event,
    "finance.fund": lambda w: w.fund_entry.fund,
    "finance.fundentry": lambda w: w.fund_entry,
    "finance.donation": lambda w: w.donation,
    "enrollment.scholarshipwait": lambda w: w.scholarship_wait,
    "axes.accessattempt": lambda w: AccessAttemptFactory(),
    "axes.accesslog": lambda w: AccessLogFactory(),
    "axes.accessfailurelog": lambda w: AccessFailureLogFactory(),
}

#: Pages whose "allowed" answer is a redirect: the one-row options go straight to their row.
OK_REDIRECT = {"admin:core_siteoptions_changelist", "admin:enrollment_enrollmentoptions_changelist"}

#: Authorization defects found and not fixed yet, each marked strict xfail (so its fix turns the
#: case red until the entry goes). Key: (page key, role). None today.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def _admin_pages() -> list[tuple[str, Callable[[World], str], dict[str, int]]]:
    pages = []
    for label, allowed in ADMIN_MODELS.items():
        app, model = label.split(".")
        for action, who in zip(ADMIN_ACTIONS, allowed, strict=True):
            name = f"admin:{app}_{model}_{action}"
            ok = 302 if name in OK_REDIRECT else 200
            codes = {role: ok if LETTER[role] in who else 403 for role in STAFF}
            if action in ("changelist", "add"):
                def url(w, name=name):
                    return reverse(name)
            else:
                def url(w, name=name, label=label):
                    return reverse(name, args=[ADMIN_OBJECT[label](w).pk])
            pages.append((name, url, codes))
    return pages


def codes(coordinator: int, front_desk: int, finance: int) -> dict[str, int]:
    return {C: coordinator, D: front_desk, F: finance}


def _view_on_site(w: World) -> str:
    return reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Course).pk, w.course.pk])


#: Every other back-office page: (key, URL, expected answer per role). The key is the URL's name
#: (with a suffix after "#" for a second variant of the same URL).
OTHER_PAGES: list[tuple[str, Callable[[World], str], dict[str, int]]] = [
    # the admin's own pages                                                           coord front finance
    ("admin:index", lambda w: reverse("admin:index"),                                 codes(200, 200, 200)),
    ("admin:app_list#auth", lambda w: "/staff/auth/",                                 codes(200, 404, 404)),
    ("admin:app_list#core", lambda w: "/staff/core/",                                 codes(200, 404, 404)),
    ("admin:app_list#classes", lambda w: "/staff/classes/",                           codes(200, 200, 200)),
    ("admin:app_list#enrollment", lambda w: "/staff/enrollment/",                     codes(200, 200, 200)),
    ("admin:app_list#finance", lambda w: "/staff/finance/",                           codes(200, 404, 200)),
    ("admin:app_list#axes", lambda w: "/staff/axes/",                                 codes(200, 404, 404)),
    ("admin:auth_user_password_change",
     lambda w: reverse("admin:auth_user_password_change", args=[w.clerk.pk]),         codes(200, 403, 403)),
    ("admin:password_change", lambda w: reverse("admin:password_change"),             codes(200, 200, 200)),
    ("admin:password_change_done", lambda w: reverse("admin:password_change_done"),   codes(200, 200, 200)),
    ("admin:jsi18n", lambda w: reverse("admin:jsi18n"),                               codes(200, 200, 200)),
    ("admin:autocomplete",  # the venues a course form offers: needs classes.view_venue
     lambda w: reverse("admin:autocomplete") + "?app_label=classes&model_name=course&field_name=venue",
                                                                                      codes(200, 200, 403)),
    ("admin:view_on_site", _view_on_site,                                             codes(302, 302, 302)),
    # the front desk
    ("desk:home", lambda w: reverse("desk:home"),                                     codes(200, 200, 200)),
    ("desk:home#search", lambda w: reverse("desk:home") + "?q=Jordan",                codes(200, 200, 200)),
    ("desk:register", lambda w: reverse("desk:register"),                             codes(200, 200, 403)),
    ("desk:order", lambda w: reverse("desk:order", args=[w.order.pk]),                codes(200, 200, 200)),
    ("desk:order-pay", lambda w: reverse("desk:order-pay", args=[w.due_order.pk]),    codes(302, 302, 302)),
    ("desk:order-receipt", lambda w: reverse("desk:order-receipt", args=[w.order.pk]), codes(200, 200, 200)),
    ("desk:order-receipt-email",
     lambda w: reverse("desk:order-receipt-email", args=[w.order.pk]),                codes(302, 302, 302)),
    # rosters and attendance
    ("rosters:index", lambda w: reverse("rosters:index"),                             codes(200, 200, 403)),
    ("rosters:print", lambda w: reverse("rosters:print") + f"?semester={w.semester.pk}", codes(200, 200, 403)),
    ("rosters:course", lambda w: reverse("rosters:course", args=[w.course.pk]),       codes(200, 200, 403)),
    ("rosters:course-print",
     lambda w: reverse("rosters:course-print", args=[w.course.pk]),                   codes(200, 200, 403)),
    ("rosters:course-csv", lambda w: reverse("rosters:course-csv", args=[w.course.pk]), codes(200, 200, 403)),
    ("rosters:attendance", lambda w: reverse("rosters:attendance", args=[w.meeting.pk]), codes(200, 200, 403)),
    # the week-out run: cutoffs and decisions, the call list (marking a call is POST only: 405 to a GET)
    ("weekout:index", lambda w: reverse("weekout:index"),                             codes(200, 200, 403)),
    ("weekout:calls", lambda w: reverse("weekout:calls"),                             codes(200, 200, 403)),
    ("weekout:calls#called", lambda w: reverse("weekout:calls") + "?status=called",   codes(200, 200, 403)),
    ("weekout:call-mark", lambda w: reverse("weekout:call-mark", args=[w.call.pk]),   codes(405, 405, 403)),
    ("weekout:decide", lambda w: reverse("weekout:decide", args=[w.course.pk]),       codes(200, 403, 403)),
    # money: refunds, the deposit report; the transfer page
    ("money:refund-create",
     lambda w: reverse("money:refund-create", args=[w.registration.pk]),              codes(200, 403, 200)),
    ("money:registration-transfer",
     lambda w: reverse("money:registration-transfer", args=[w.registration.pk]),      codes(200, 403, 403)),
    ("money:refunds-to-issue", lambda w: reverse("money:refunds-to-issue"),           codes(200, 403, 200)),
    ("money:deposit-report", lambda w: reverse("money:deposit-report"),               codes(200, 403, 200)),
    ("money:deposit-report#csv-summary",
     lambda w: reverse("money:deposit-report") + "?export=summary",                   codes(200, 403, 200)),
    ("money:deposit-report#csv-items",
     lambda w: reverse("money:deposit-report") + "?export=items",                     codes(200, 403, 200)),
    # donations to Pass the Buck: recorded as money taken at the desk (finance.take_offline_payment);
    # opened by Finance and the coordinator (finance.view_donation) — the clerk who recorded one
    # may reopen that one for a while (tests/finance/test_donation_access.py), no other
    ("money:donation-create", lambda w: reverse("money:donation-create"),             codes(200, 200, 200)),
    ("money:donation-detail",
     lambda w: reverse("money:donation-detail", args=[w.donation.pk]),                codes(200, 403, 200)),
    ("money:donation-receipt",
     lambda w: reverse("money:donation-receipt", args=[w.donation.pk]),               codes(200, 403, 200)),
    # Pass the Buck: the fund report and its CSVs, the ledger (finance.view_money_reports: who gave
    # and which classes had scholarships), adjustments (finance.adjust_fund)
    ("money:fund-report", lambda w: reverse("money:fund-report"),                     codes(200, 403, 200)),
    *[(f"money:fund-report#csv-{table}",
       lambda w, table=table: reverse("money:fund-report") + f"?format=csv&table={table}", codes(200, 403, 200))
      for table in ("balance", "donations", "awards", "donors", "publication")],
    ("money:fund-ledger", lambda w: reverse("money:fund-ledger"),                     codes(200, 403, 200)),
    ("money:fund-adjust", lambda w: reverse("money:fund-adjust"),                     codes(200, 403, 200)),
]

PAGES = {key: (url, expected) for key, url, expected in _admin_pages() + OTHER_PAGES}

#: /staff/ URLs that are not pages of the matrix, and why.
NOT_PAGES = {
    "admin:login": "the login page itself (public; test_the_login_page_is_open_to_everyone)",
    "admin:logout": "ends the session (POST only)",
    "admin:<object id>": "redirects an old-style object URL to its change page (same checks)",
    "admin:<catch-all>": "the admin's 404 for unknown URLs (staff only; test_unknown_staff_urls...)",
}


def _marks(key: str, role: str):
    reason = KNOWN_DEFECTS.get((key, role))
    return [pytest.mark.xfail(strict=True, reason=f"authorization defect: {reason}")] if reason else []


STAFF_CASES = [pytest.param(role, key, id=f"{role}-{key}", marks=_marks(key, role)) for key in PAGES for role in STAFF]
SAMPLE_PAGES = ("admin:index", "admin:auth_user_changelist", "admin:finance_refund_change", "admin:app_list#core",
                "desk:home", "desk:register", "rosters:attendance", "money:refund-create",
                "money:registration-transfer", "money:deposit-report", "weekout:calls")
VISITOR_CASES = [pytest.param(who, key, id=f"{who}-{key}") for key in PAGES for who in VISITORS
                 if who in EVERY_PAGE or key in SAMPLE_PAGES]


def assert_login_redirect(response, url: str) -> None:
    assert response.status_code == 302, f"{url}: {response.status_code}, not a redirect to the login"
    location = urlsplit(response["Location"])
    assert location.path == LOGIN, f"{url} → {response['Location']}"
    assert location.query == "next=" + quote(url, safe="/"), f"{url} → {response['Location']}"


@pytest.mark.parametrize(("role", "key"), STAFF_CASES)
def test_staff_page(client, world, role, key):
    url_of, expected = PAGES[key]
    login_as(client, world, role)
    url = url_of(world)
    response = client.get(url)
    want = expected[role]
    assert response.status_code == want, f"{role} GET {url}: {response.status_code}, expected {want}"
    if want == 302:
        location = response["Location"]
        assert not location.startswith(LOGIN), f"{role} GET {url} was sent to the login: {location}"
        if key in OK_REDIRECT:  # the one-row options: the row's change page
            assert client.get(location).status_code == 200


@pytest.mark.parametrize(("who", "key"), VISITOR_CASES)
def test_visitor_is_sent_to_the_login(client, world, who, key):
    url_of, _ = PAGES[key]
    login_as(client, world, who)
    url = url_of(world)
    assert_login_redirect(client.get(url), url)


@pytest.mark.parametrize("role", [D, F])
@pytest.mark.parametrize("key", ["admin:core_siteoptions_changelist", "admin:enrollment_enrollmentoptions_changelist"])
def test_the_one_row_options_end_in_403_for_roles_without_them(client, world, role, key):
    """Whatever the changelist answers (see KNOWN_DEFECTS), following it shows them nothing."""
    login_as(client, world, role)
    response = client.get(reverse(key), follow=True)
    assert response.status_code == 403
    assert world.site_options.library_name.encode() not in response.content


def test_the_login_page_is_open_to_everyone(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.parametrize("who", ["anonymous", "patron", *STAFF])
def test_unknown_staff_urls_are_absent_or_behind_the_login(client, world, who):
    login_as(client, world, who)
    url = "/staff/no-such-page/"
    response = client.get(url)
    if who in STAFF:
        assert response.status_code == 404
    else:
        assert_login_redirect(response, url)


# --- the matrix: actions (POSTs that change something) ------------------------------------------------

@dataclass
class Action:
    url: Callable[[World], str]
    data: Callable[[World], dict]
    state: Callable[[World], object]  # what the action changes
    allowed: str  # "CDF" letters


def _desk_registration(w: World) -> dict:
    return {
        "nonce": "0123456789abcdef0123456789abcdef", "rows": "4",
        "buyer-first_name": "Walk", "buyer-last_name": "In", "buyer-email": "walk.in@example.org",
        "buyer-phone": "785-555-0111", "buyer-street_address": "", "buyer-city_state_zip": "",
        "row0-course": str(w.target.pk), "row0-first_name": "Walk", "row0-last_name": "In",
        "row0-relationship": "self",
        "pay-provider": "check", "pay-amount": "25.00", "pay-reference": "2041", "pay-payer": "",
    }


def _site_options(w: World) -> dict:
    o = w.site_options
    return {"library_name": "Hijacked Library", "program_name": o.program_name, "street_address": o.street_address,
            "city_state_zip": o.city_state_zip, "phone": o.phone, "email": o.email,
            "staff_hourly_rate": str(o.staff_hourly_rate), "default_instructor_rate": str(o.default_instructor_rate)}


def _user_escalation(w: World) -> dict:
    """The clerk made a superuser and a program coordinator (the user admin's whole change form); for
    the coordinator only the role sticks (tests/core/test_user_admin.py)."""
    now = timezone.localtime()
    return {
        "username": w.clerk.username, "first_name": "", "last_name": "", "email": w.clerk.email,
        "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "groups": [str(Group.objects.get(name=COORDINATOR).pk)], "user_permissions": [],
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": now.strftime("%Y-%m-%d"), "date_joined_1": now.strftime("%H:%M:%S"),
    }


def _clerk_powers(w: World):
    w.clerk.refresh_from_db()
    return w.clerk.is_superuser, sorted(w.clerk.groups.values_list("name", flat=True))


ACTIONS: dict[str, Action] = {
    # the front desk
    "desk-register": Action(
        lambda w: reverse("desk:register"), _desk_registration,
        lambda w: (Order.objects.count(), Payment.objects.count()), "CD"),
    "desk-take-payment": Action(
        lambda w: reverse("desk:order-pay", args=[w.due_order.pk]),
        lambda w: {"pay-provider": "cash", "pay-amount": "25.00", "pay-reference": "", "pay-payer": ""},
        lambda w: w.due_order.payments.count(), "CDF"),
    "desk-email-receipt": Action(
        lambda w: reverse("desk:order-receipt-email", args=[w.order.pk]), lambda w: {},
        lambda w: OutboxMessage.objects.count(), "CDF"),
    # rosters
    "rosters-take-attendance": Action(
        lambda w: reverse("rosters:attendance", args=[w.meeting.pk]),
        lambda w: {f"present_{w.registration.pk}": "on"},
        lambda w: Attendance.objects.count(), "CD"),
    # the week-out call list
    "weekout-mark-call": Action(
        lambda w: reverse("weekout:call-mark", args=[w.call.pk]),
        lambda w: {f"call-{w.call.pk}-outcome": "spoke", f"call-{w.call.pk}-notes": "Will come",
                   "next": reverse("weekout:calls")},
        lambda w: CallListEntry.objects.filter(pk=w.call.pk).values_list("outcome", "called_at").get(), "CD"),
    # money
    "money-refund": Action(
        lambda w: reverse("money:refund-create", args=[w.cancelled.pk]),
        lambda w: {"form_key": "f" * 32, "amount": "25.00", "reason": "Moved away"},
        lambda w: Refund.objects.filter(registration=w.cancelled).count(), "CF"),
    "money-issue-refund": Action(
        lambda w: reverse("money:refunds-to-issue"),
        lambda w: {"refund": str(w.refund.pk), f"r{w.refund.pk}-refund_id": str(w.refund.pk),
                   f"r{w.refund.pk}-reference": "5001"},
        lambda w: Refund.objects.get(pk=w.refund.pk).status, "CF"),
    "money-donation": Action(
        lambda w: reverse("money:donation-create"),
        lambda w: {"first_name": "Ada", "last_name": "Lopez", "email": "", "address": "", "amount": "25.00",
                   "method": "check", "reference": "3001", "dedication": ""},
        lambda w: (Donation.objects.count(), FundEntry.objects.count()), "CDF"),
    "money-fund-adjust": Action(
        lambda w: reverse("money:fund-adjust"),
        lambda w: {"amount": "-10.00", "reason": "A donation was booked twice"},
        lambda w: (FundEntry.objects.count(), sum(FundEntry.objects.values_list("amount", flat=True))), "CF"),
    "money-transfer": Action(
        lambda w: reverse("money:registration-transfer", args=[w.registration.pk]),
        lambda w: {"to_course": str(w.target.pk), "reason": "Asked by phone"},
        lambda w: Registration.objects.get(pk=w.registration.pk).status, "C"),
    # the admin
    "admin-refund-mark-issued": Action(
        lambda w: reverse("admin:finance_refund_changelist"),
        lambda w: {"action": "mark_issued", "_selected_action": [str(w.refund.pk)], "apply": "1",
                   "issue-TOTAL_FORMS": "1", "issue-INITIAL_FORMS": "0",
                   "issue-0-refund_id": str(w.refund.pk), "issue-0-reference": "5002"},
        lambda w: Refund.objects.get(pk=w.refund.pk).status, "CF"),
    "admin-outbox-retry": Action(
        lambda w: reverse("admin:core_outboxmessage_changelist"),
        lambda w: {"action": "retry_now", "_selected_action": [str(w.outbox.pk)], "index": "0"},
        lambda w: OutboxMessage.objects.get(pk=w.outbox.pk).status, "C"),
    "admin-registration-rename": Action(
        lambda w: reverse("admin:enrollment_registration_change", args=[w.registration.pk]),
        lambda w: {"attendee_first_name": "Renamed", "attendee_last_name": w.registration.attendee_last_name},
        lambda w: Registration.objects.get(pk=w.registration.pk).attendee_first_name, "CD"),
    "admin-site-options": Action(
        lambda w: reverse("admin:core_siteoptions_change", args=[w.site_options.pk]), _site_options,
        lambda w: SiteOptions.objects.get(pk=w.site_options.pk).library_name, "C"),
    "admin-user-add": Action(
        lambda w: reverse("admin:auth_user_add"),
        lambda w: {"username": "newcomer", "password1": "An0ther-long-pass", "password2": "An0ther-long-pass",
                   "usable_password": "true"},
        lambda w: User.objects.filter(username="newcomer").exists(), "C"),
    "admin-user-escalate": Action(
        lambda w: reverse("admin:auth_user_change", args=[w.clerk.pk]), _user_escalation, _clerk_powers, "C"),
    "admin-user-password": Action(
        lambda w: reverse("admin:auth_user_password_change", args=[w.clerk.pk]),
        lambda w: {"password1": "Taken-0ver-pass", "password2": "Taken-0ver-pass", "usable_password": "true"},
        lambda w: User.objects.get(pk=w.clerk.pk).password, "C"),
    "admin-group-grant": Action(
        lambda w: reverse("admin:auth_group_change", args=[Group.objects.get(name=FRONT_DESK).pk]),
        lambda w: {"name": FRONT_DESK, "permissions": [str(p) for p in Permission.objects.values_list("pk", flat=True)]},
        lambda w: Group.objects.get(name=FRONT_DESK).permissions.count(), ""),  # a superuser's only
}

ACTION_CASES = [pytest.param(who, key, id=f"{who}-{key}") for key in ACTIONS for who in (*STAFF, *VISITORS)]


@pytest.mark.parametrize(("who", "key"), ACTION_CASES)
def test_action(client, world, who, key):
    action = ACTIONS[key]
    login_as(client, world, who)
    url = action.url(world)
    before = action.state(world)
    response = client.post(url, action.data(world))
    after = action.state(world)
    if who not in STAFF:
        assert_login_redirect(response, url)
        assert after == before, f"{who} POST {url} changed {before!r} → {after!r}"
    elif LETTER[who] in action.allowed:
        assert response.status_code == 302, f"{who} POST {url}: {response.status_code} {response.content[-2000:]!r}"
        assert not response["Location"].startswith(LOGIN)
        assert after != before, f"{who} POST {url} changed nothing ({before!r})"
    else:
        assert response.status_code == 403, f"{who} POST {url}: {response.status_code}, expected 403"
        assert after == before, f"{who} POST {url} was refused but changed {before!r} → {after!r}"


@pytest.mark.parametrize("key", [k for k, a in ACTIONS.items() if a.allowed])
def test_an_action_without_the_csrf_token_is_refused(world, key):
    """A page on another site cannot make a logged-in staff member's browser do it (CSRF)."""
    action = ACTIONS[key]
    who = next(role for role in STAFF if LETTER[role] in action.allowed)
    client = Client(enforce_csrf_checks=True)
    login_as(client, world, who)
    before = action.state(world)
    response = client.post(action.url(world), action.data(world))
    assert response.status_code == 403
    assert action.state(world) == before


#: The back office's own pages (not the admin's model pages), where the app decides which links to show.
NAVIGATION = [key for key, _, _ in OTHER_PAGES if not key.startswith(("admin:app_list", "admin:auth_user_password"))]


@pytest.mark.parametrize("role", [D, F])
def test_the_links_a_role_is_shown_open_for_it(client, world, role):
    """Every back-office link on the dashboard, desk, roster, week-out and money pages a role can open
    leads to a page that role may open: no buttons to pages that answer 403 (the coordinator may
    open everything)."""
    login_as(client, world, role)
    links: dict[str, str] = {}
    for key in NAVIGATION:
        url_of, expected = PAGES[key]
        if expected[role] != 200:
            continue
        response = client.get(url_of(world))
        if "text/html" not in response["Content-Type"]:
            continue
        for href in re.findall(r'href="(/staff/[^"#]*)"', response.content.decode()):
            links.setdefault(unescape(href), key)
    assert links
    refused = {href: (status, on) for href, on in links.items()
               if (status := client.get(href).status_code) in (403, 404)}
    assert not refused, f"{role} is shown links it may not open (link: (status, on page)): {refused}"


# --- completeness: every /staff/ URL and every admin model is classified -------------------------------

def _staff_patterns(resolver=None, prefix="", namespace=""):
    """(route, namespaced name) of every URL under /staff/ in the real URLconf."""
    for p in (resolver or get_resolver()).url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace]))
            yield from _staff_patterns(p, route, ns)
        elif isinstance(p, URLPattern) and route.lstrip("^").startswith("staff/"):
            yield route, f"{namespace}:{p.name}" if p.name else None


def _classify(route: str, name: str | None) -> str | None:
    """The matrix entry (or NOT_PAGES entry) that covers a URL, or None."""
    if name is None:
        if route.endswith("(?P<url>.*)$"):
            return "admin:<catch-all>"
        if route.endswith("<path:object_id>/"):
            return "admin:<object id>"
        return None
    if name == "admin:app_list":
        return name
    if name in PAGES or name in NOT_PAGES:
        return name
    return None


def test_every_staff_url_is_in_the_matrix():
    patterns = list(_staff_patterns())
    namespaces = {name.split(":")[0] for _, name in patterns if name}
    assert {"admin", "desk", "rosters", "money", "weekout"} <= namespaces, namespaces
    assert namespaces <= {"admin", "desk", "rosters", "money", "weekout"}, f"a new staff namespace: {namespaces}"
    unclassified = [(route, name) for route, name in patterns if _classify(route, name) is None]
    assert not unclassified, (
        "New back-office URLs: add each to the authorization matrix (tests/core/test_authorization.py), "
        f"with who may open it: {unclassified}"
    )
    # ...and nothing in the matrix is stale
    names = {name for _, name in patterns if name}
    stale = {key.split("#")[0] for key in PAGES} - names
    assert not stale, f"the matrix lists URLs the URLconf no longer has: {stale}"
    assert set(SAMPLE_PAGES) <= set(PAGES)


def test_every_admin_model_is_in_the_matrix():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), (
        f"models new to the admin: {registered - set(ADMIN_MODELS)}; gone: {set(ADMIN_MODELS) - registered}"
    )
    app_labels = {label.split(".")[0] for label in registered}
    listed = {re.sub(r"^admin:app_list#", "", key) for key in PAGES if key.startswith("admin:app_list#")}
    assert app_labels == listed


def test_every_role_is_in_the_matrix():
    assert set(ROLE_GROUP.values()) == {COORDINATOR, FRONT_DESK, FINANCE}
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_GROUP.values())

"""factory_boy factories for every model. Times are aware, in the program's time zone."""

import datetime as dt
import importlib
from decimal import Decimal

import factory
from django.apps import apps as django_apps
from django.utils import timezone

from classes.models import Category, Course, Instructor, Meeting, Semester, Venue
from core.models import OutboxMessage
from enrollment.models import CallListEntry, CourseDecision, Order, ReferralSource, Registration, ScholarshipWait
from enrollment.services.seats import attendee_key
from finance.models import Donation, Fund, FundEntry, Payment, Refund, StripeEvent


def local_dt(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def today() -> dt.date:
    return timezone.localdate()


class InstructorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instructor

    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = factory.Sequence(lambda n: f"Teacher{n}")
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.org")
    bio = "Has taught community classes for years."
    pay_basis = Instructor.PayBasis.HOURLY
    hourly_rate = Decimal("15.00")


class SemesterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Semester

    name = factory.Sequence(lambda n: f"Semester {n}")
    slug = factory.Sequence(lambda n: f"semester-{n}")
    starts_on = factory.LazyFunction(lambda: today() - dt.timedelta(days=14))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=120))
    registration_opens_at = factory.LazyAttribute(lambda o: local_dt(o.starts_on - dt.timedelta(days=30), 9))
    cutoff_days = 7
    is_published = True  # a new semester starts unpublished; the tests' semesters are in the catalog


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Room {n}")
    slug = factory.Sequence(lambda n: f"room-{n}")
    kind = Venue.Kind.LIBRARY_ROOM
    street_address = "301 W Elm St"
    city = "Salina"
    state = "KS"
    postal_code = "67401"
    latitude = Decimal("38.840300")
    longitude = Decimal("-97.611400")
    capacity = 30
    accessibility_notes = "Step-free entrance; elevator to all floors."
    parking_notes = "Free parking in the library lot."


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    semester = factory.SubFactory(SemesterFactory)
    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    category = factory.SubFactory(CategoryFactory)
    audience = Course.Audience.ADULTS
    description = "Learn something new with your neighbors."
    what_to_bring = "A notebook."
    instructor = factory.SubFactory(InstructorFactory)
    venue = factory.SubFactory(VenueFactory)
    capacity = 12
    minimum = 5
    fee = Decimal("25.00")
    status = Course.Status.OPEN
    staff_hours = Decimal("1.00")


class MeetingFactory(factory.django.DjangoModelFactory):
    """A 90-minute meeting, by default three weeks from today at 6:30 pm."""

    class Meta:
        model = Meeting

    course = factory.SubFactory(CourseFactory)
    starts_at = factory.LazyFunction(lambda: local_dt(today() + dt.timedelta(days=21), 18, 30))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=90))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Buyer{n}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.org")
    phone = "785-555-0100"


class RegistrationFactory(factory.django.DjangoModelFactory):
    """A confirmed registration (pass status/expires_at for holds and offers)."""

    class Meta:
        model = Registration

    order = factory.SubFactory(OrderFactory)
    course = factory.SubFactory(CourseFactory)
    attendee_first_name = "Alex"
    attendee_last_name = factory.Sequence(lambda n: f"Reader{n}")
    attendee_key = factory.LazyAttribute(
        lambda o: attendee_key(first_name=o.attendee_first_name, last_name=o.attendee_last_name, email=o.order.email)
    )
    status = Registration.Status.CONFIRMED
    price = factory.LazyAttribute(lambda o: o.course.fee)
    confirmed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == Registration.Status.CONFIRMED else None
    )


def course_with_meetings(*, first: dt.datetime | None = None, weekly: int = 1, minutes: int = 90, **kwargs) -> Course:
    """A course with ``weekly`` meetings one week apart, the first at ``first``."""
    course = CourseFactory(**kwargs)
    first = first or local_dt(today() + dt.timedelta(days=21), 18, 30)
    for week in range(weekly):
        start = timezone.make_aware(dt.datetime.combine(timezone.localtime(first).date() + dt.timedelta(weeks=week),
                                                        timezone.localtime(first).time()))
        MeetingFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(minutes=minutes))
    return course


class ReferralSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n}")


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    template = "manage_link"
    to = factory.Sequence(lambda n: f"patron{n}@example.org")
    subject = "Your registrations"
    body_text = "Hello"
    status = OutboxMessage.Status.FAILED
    attempts = 1
    last_error = "550 mailbox unavailable"


class PaymentFactory(factory.django.DjangoModelFactory):
    """A succeeded payment for one confirmed registration."""

    class Meta:
        model = Payment
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    provider = Payment.Provider.CHECK
    amount = Decimal("25.00")
    status = Payment.Status.SUCCEEDED
    reference = factory.Sequence(lambda n: f"{1000 + n}")
    succeeded_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def registrations(self, create, extracted, **kwargs):
        if not create:
            return
        for registration in extracted or [RegistrationFactory(order=self.order, price=self.amount)]:
            self.registrations.add(registration)


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    amount = Decimal("25.00")
    reason = "Cancelled before the cutoff"
    dedupe_key = factory.Sequence(lambda n: f"test-refund:{n}")


class StripeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StripeEvent

    event_id = factory.Sequence(lambda n: f"evt_test_{n}")
    type = "payment_intent.succeeded"


class CourseDecisionFactory(factory.django.DjangoModelFactory):
    """The week-out run's decision: the course runs, with exactly its minimum confirmed."""

    class Meta:
        model = CourseDecision

    course = factory.SubFactory(CourseFactory, status=Course.Status.RUNNING)
    outcome = CourseDecision.Outcome.RUNNING
    decided_at = factory.LazyFunction(timezone.now)
    confirmed_count = factory.LazyAttribute(lambda o: o.course.minimum)
    minimum = factory.LazyAttribute(lambda o: o.course.minimum)
    automatic = True
    reason = "At or above the minimum at the week-out cutoff."


class CallListEntryFactory(factory.django.DjangoModelFactory):
    """A registrant without e-mail to phone with a reminder."""

    class Meta:
        model = CallListEntry

    registration = factory.SubFactory(RegistrationFactory, order=factory.SubFactory(OrderFactory, email=""))
    topic = CallListEntry.Topic.REMINDER
    script = "A reminder: the class runs, and the first meeting is next week."


class FundFactory(factory.django.DjangoModelFactory):
    """The Pass the Buck fund (one row)."""

    class Meta:
        model = Fund
        django_get_or_create = ("name",)

    name = Fund.PASS_THE_BUCK


#: The enrollment migration that stores each seat's share of the fund on its registration; its
#: ``backfill`` recomputes that share from the ledger (as ``finance.services.fund`` keeps it).
fund_share_migration = importlib.import_module("enrollment.migrations.0009_registration_fund_share")


class FundEntryFactory(factory.django.DjangoModelFactory):
    """A $50.00 donation to the fund (entries are otherwise written by ``finance.services.fund``).
    An entry made for a registration (an award, a return) also updates the share of the fund the
    registration stores (``fund_paid``, ``fund_returned``), as the fund's services do."""

    class Meta:
        model = FundEntry
        skip_postgeneration_save = True

    fund = factory.SubFactory(FundFactory)
    kind = FundEntry.Kind.DONATION
    amount = Decimal("50.00")
    reason = "Donated at the desk"
    dedupe_key = factory.Sequence(lambda n: f"test-donation:{n}")

    @factory.post_generation
    def registration_share(obj, create, extracted, **kwargs):
        if create and obj.registration_id is not None:
            fund_share_migration.backfill(django_apps)
            obj.registration.refresh_from_db(fields=["fund_paid", "fund_returned"])


class DonationFactory(factory.django.DjangoModelFactory):
    """A succeeded $40.00 cash donation (real ones are written by ``finance.services.donations``)."""

    class Meta:
        model = Donation

    first_name = "Grace"
    last_name = "Hopper"
    email = "grace@example.org"
    amount = Decimal("40.00")
    method = Donation.Method.CASH
    status = Donation.Status.SUCCEEDED
    succeeded_at = factory.LazyFunction(timezone.now)


class ScholarshipWaitFactory(factory.django.DjangoModelFactory):
    """An attendee on the Pass the Buck scholarship waitlist of a course."""

    class Meta:
        model = ScholarshipWait

    course = factory.SubFactory(CourseFactory)
    first_name = "Robin"
    last_name = factory.Sequence(lambda n: f"Waiting{n}")
    email = factory.Sequence(lambda n: f"wait{n}@example.org")
    attendee_first_name = "Robin"
    attendee_last_name = factory.SelfAttribute("last_name")
    attendee_key = factory.LazyAttribute(
        lambda o: attendee_key(first_name=o.attendee_first_name, last_name=o.attendee_last_name, email=o.email)
    )


def role_client(django_user_model, role: str | None, username: str, **fields):
    """A test client logged in as a staff member with the back-office role ``role`` (a group of
    ``core.roles``; None: staff without a role); ``client.user`` is that user."""
    from django.contrib.auth.models import Group, Permission
    from django.test import Client

    from core.roles import COORDINATOR, roles_sync

    if not Group.objects.filter(name=COORDINATOR).exists():
        roles_sync(Group, Permission)
    user = django_user_model.objects.create_user(username, f"{username}@library.example", "pw-123456789",
                                                 is_staff=True, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def open_order(client, order) -> None:
    """Follow ``order``'s link (its token) as an e-mail or checkout sends the patron: the browser
    gets a grant in its session and a redirect to a URL without the token (``enrollment.access``)."""
    from django.urls import reverse

    response = client.get(reverse("enrollment:order-confirmation-link", args=[order.token]))
    assert response.status_code == 302 and str(order.token) not in response["Location"], response


# --- django-axes (staff login attempts; rows made by axes itself) --------------------------------

class AccessAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "axes.AccessAttempt"

    username = factory.Sequence(lambda n: f"clerk{n}")
    ip_address = "203.0.113.7"
    user_agent = "pytest"
    http_accept = "text/html"
    path_info = "/staff/login/"
    get_data = ""
    post_data = "username=clerk"
    failures_since_start = 5


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "axes.AccessLog"

    username = "clerk"
    ip_address = "203.0.113.7"
    user_agent = "pytest"
    http_accept = "text/html"
    path_info = "/staff/login/"


class AccessFailureLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "axes.AccessFailureLog"

    username = "clerk"
    ip_address = "203.0.113.7"
    user_agent = "pytest"
    http_accept = "text/html"
    path_info = "/staff/login/"

"""The patron's cart and the checkout's one-time nonce, kept in the session.

The session holds only what checkout needs and nothing personal:

- the cart: a list of course ids (no prices — the server always reads the fee from the course);
- the checkout nonce: a random id posted back in a hidden field, so that a replayed checkout
  post (the back button, a double submit) is recognised instead of placing a second order;
- the nonces already used, each with the token of the order it placed (the last few only).

Buyer and attendee details are never stored here: they travel in the checkout form itself.
"""

import datetime as dt
import uuid

from django.db.models import Min, Prefetch, QuerySet

from classes.models import Course, Meeting
from classes.selectors import PUBLIC_STATUSES

from .selectors import course_seats_annotate
from .services import EnrollmentError
from .services.seats import course_check_open

CART_KEY = "enrollment.cart"
NONCE_KEY = "enrollment.checkout_nonce"
PLACED_KEY = "enrollment.checkout_placed"

#: At most this many classes in one cart (a checkout is one page; this also bounds its size).
MAX_CLASSES = 10
#: How many used nonces are remembered (enough for any back-button history).
MAX_PLACED = 10


def catalog_courses_by_id(course_ids, *, meetings: bool = True) -> QuerySet[Course]:
    """Courses of the public catalog (published semester, public status) among ``course_ids``,
    with what the cart and checkout show: relations, meetings (unless ``meetings=False``: a
    checkout post that places the order shows none) and the first meeting's start."""
    qs = (
        Course.objects.filter(pk__in=list(course_ids), status__in=PUBLIC_STATUSES, semester__is_published=True)
        .select_related("semester", "category", "venue")
        .annotate(first_meeting_start=Min("meetings__starts_at"))
    )
    if meetings:
        qs = qs.prefetch_related(Prefetch("meetings", queryset=Meeting.objects.select_related("venue")
                                          .order_by("starts_at")))
    return qs


class Cart:
    """The cart of one session. Changes are saved with the session at the end of the request."""

    def __init__(self, session):
        self.session = session

    # --- the classes ----------------------------------------------------------------------
    @property
    def ids(self) -> list[int]:
        raw = self.session.get(CART_KEY)
        if not isinstance(raw, list):
            return []
        ids: list[int] = []
        for value in raw:
            if isinstance(value, int) and not isinstance(value, bool) and value > 0 and value not in ids:
                ids.append(value)
        return ids[:MAX_CLASSES]

    def _store(self, ids: list[int]) -> None:
        self.session[CART_KEY] = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, course_id: int) -> bool:
        return course_id in self.ids

    def is_full(self) -> bool:
        return len(self.ids) >= MAX_CLASSES

    def add(self, course_id: int) -> bool:
        """Add a class; False when it was already in the cart or the cart is full."""
        ids = self.ids
        if course_id in ids or len(ids) >= MAX_CLASSES:
            return False
        self._store([*ids, course_id])
        return True

    def remove(self, course_id: int) -> bool:
        ids = self.ids
        if course_id not in ids:
            return False
        self._store([pk for pk in ids if pk != course_id])
        return True

    def clear(self) -> None:
        self.session.pop(CART_KEY, None)

    def courses(self, *, now: dt.datetime, meetings: bool = True) -> tuple[list[Course], int]:
        """The cart's classes in the order they were added, and how many were dropped because
        they left the catalog. Each course carries ``seats_left`` and the rest of
        ``course_seats_annotate``, ``is_full``, and ``problem``: why registration is not open
        for it right now (the seat service checks again when the order is placed), or ""."""
        ids = self.ids
        found = {c.pk: c for c in course_seats_annotate(catalog_courses_by_id(ids, meetings=meetings), now=now)}
        kept = [pk for pk in ids if pk in found]
        if kept != ids:
            self._store(kept)
        courses = [found[pk] for pk in kept]
        for course in courses:
            course.is_full = course.seats_left <= 0
            try:
                course_check_open(course, now=now)
            except EnrollmentError as exc:
                course.problem = exc.message
            else:
                course.problem = ""
        return courses, len(ids) - len(kept)

    # --- the one-time checkout nonce ------------------------------------------------------
    def nonce(self) -> str:
        """The nonce the next checkout post must carry (made on first use)."""
        value = self.session.get(NONCE_KEY)
        if not isinstance(value, str) or not value:
            value = uuid.uuid4().hex
            self.session[NONCE_KEY] = value
        return value

    def placed_order_token(self, nonce: str) -> str | None:
        """The token of the order a used nonce placed, or None."""
        placed = self.session.get(PLACED_KEY)
        if not nonce or not isinstance(placed, dict):
            return None
        token = placed.get(nonce)
        return token if isinstance(token, str) else None

    def checkout_done(self, *, nonce: str, order_token) -> None:
        """An order was placed with ``nonce``: remember it, start a fresh nonce, empty the cart."""
        placed = self.session.get(PLACED_KEY)
        placed = dict(placed) if isinstance(placed, dict) else {}
        placed[nonce] = str(order_token)
        self.session[PLACED_KEY] = dict(list(placed.items())[-MAX_PLACED:])
        self.session[NONCE_KEY] = uuid.uuid4().hex
        self.clear()

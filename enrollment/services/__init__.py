"""Every write of the enrollment app. See ``seats`` (holds, confirmation, waitlist, expiry) and
``errors``. Callers import from here."""

from .errors import (  # noqa: F401
    AgeOutOfRange,
    AlreadyRegistered,
    CourseFull,
    CourseNotOpen,
    DuplicateCheckout,
    EnrollmentError,
    HoldExpired,
    InvalidTransition,
    RegistrationClosed,
)
from .seats import (  # noqa: F401
    AttendeeInput,
    BuyerInput,
    holds_expire,
    order_place,
    registration_cancel,
    registration_transfer,
    registrations_confirm_paid,
    waitlist_offer_next,
)

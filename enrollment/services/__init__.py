"""Every write of the enrollment app, one module per use case: ``orders`` (placing an order: holds
at checkout and the desk), ``confirmation``, ``waitlist`` (offers and expiry), ``cancellation``,
``transfer``, built on ``seats`` (row locks, the seat count, the audited status change); the
week-out run (``weekout``), its ``nudges`` and the staff ``call_list``; ``attendance``,
``course_changes``, ``completion``, ``registration_names`` and ``errors``. Callers import from here."""

from .cancellation import registration_cancel  # noqa: F401
from .confirmation import registrations_confirm_paid  # noqa: F401
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
from .orders import AttendeeInput, BuyerInput, order_place  # noqa: F401
from .registration_names import registration_names_edit  # noqa: F401
from .transfer import registration_transfer  # noqa: F401
from .waitlist import holds_expire, waitlist_offer_next  # noqa: F401

"""Every write of the finance app: card payments (``payments``) and refunds (``refunds``).
Callers import from here. Errors are in ``finance.errors``."""

from .payments import (  # noqa: F401
    ConfirmResult,
    Outcome,
    payment_confirm,
    payment_confirm_local,
    payment_start,
)
from .refunds import (  # noqa: F401
    refund_create_once,
    refund_issue,
    refund_mark_issued,
    refunds_settle,
    refunds_sweep,
)

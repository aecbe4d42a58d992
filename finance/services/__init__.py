"""Every write of the finance app: card payments (``payments``), refunds (``refunds``) and the
online checkout (``checkout``: seats, scholarships and a gift in one transaction). Callers import
from here. Errors are in ``finance.errors`` (the checkout's ``FundShort`` is a scholarship error)."""

from .checkout import checkout_place, checkout_wait_or_place  # noqa: F401
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
from .scholarships import FundShort  # noqa: F401

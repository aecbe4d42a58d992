"""Input limits of finance, shared by the services that enforce them and the back office's forms
that show them (forms never import services)."""

from decimal import Decimal

from .models import MONEY

#: A refund's reason and override reason (``finance.services.staff``).
REFUND_REASON_MAX = 180
REFUND_OVERRIDE_MAX = 100
#: A donation's fields (``finance.services.donations``).
DONOR_NAME_MAX = 80
DONATION_REFERENCE_MAX = 120
DEDICATION_MAX = 200
ADDRESS_MAX = 500
#: A fund adjustment: its reason (``FundEntry.reason``) and the largest amount the ledger holds
#: (``finance.services.fund.MAX_AMOUNT`` is this one).
FUND_REASON_MAX = 300
FUND_MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]) - Decimal("0.01")

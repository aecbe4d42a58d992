"""Money helpers. Amounts are ``Decimal`` dollars everywhere; cents only at a payment boundary."""

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DOLLAR = Decimal("1")
ZERO = Decimal("0.00")
#: The largest single amount a person can enter as a payment, refund or gift.
MAX_AMOUNT = Decimal("99999.99")


def to_decimal(value) -> Decimal:
    """Turn an int, str or Decimal into a Decimal (never a float: floats lose cents)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return value if isinstance(value, Decimal) else Decimal(value)


def round_cents(value) -> Decimal:
    """Round to whole cents, half up (the rounding people expect on a receipt)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ceil_dollars(value) -> Decimal:
    """Round up to the whole dollar, kept with two decimal places (12.01 → 13.00)."""
    return to_decimal(value).quantize(DOLLAR, rounding=ROUND_CEILING).quantize(CENT)


def to_cents(value) -> int:
    """Dollars → integer cents for a payment API."""
    return int(round_cents(value) * 100)


def from_cents(cents: int) -> Decimal:
    """Integer cents from a payment API → dollars."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def format_money(value) -> str:
    """$1,234.50 — or 'Free' for zero."""
    amount = round_cents(value)
    if amount == 0:
        return "Free"
    return f"${amount:,.2f}"

"""``{% load fund_money %}``: ``{{ amount|signed_dollars }}`` shows a ledger amount as staff read
it: ``$1,250.00``, or ``−$25.00`` (a real minus sign) when money went out of the fund."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def signed_dollars(value) -> str:
    if value is None or value == "":
        return ""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    amount = amount.quantize(Decimal("0.01"))
    return f"−${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"

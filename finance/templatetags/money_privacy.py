"""Who received a Pass the Buck scholarship is seen only by the coordinator and Finance
(``finance.view_fundentry``). Pages that list an order's or a registration's payments and
refunds to other staff (the front desk's order and receipt pages, the back office's registration
page) name a scholarship payment "Library credit" and hide its reference and reason, so the
figures still add up but nothing says a scholarship was given.

Usage: ``{% load money_privacy %}`` then ``{% payment_method payment %}``,
``{% payment_reference payment %}``, ``{% refund_reason refund %}``.
"""

from django import template

register = template.Library()

SCHOLARSHIP = "scholarship"
MASKED_METHOD = "Library credit"
SEE_SCHOLARSHIPS = "finance.view_fundentry"


def may_see_scholarships(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(SEE_SCHOLARSHIPS))


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def payment_method(context, payment) -> str:
    if payment.provider == SCHOLARSHIP:
        return "Pass the Buck scholarship" if may_see_scholarships(_user(context)) else MASKED_METHOD
    return payment.get_provider_display()


@register.simple_tag(takes_context=True)
def payment_reference(context, payment) -> str:
    if payment.provider == SCHOLARSHIP:
        return payment.reference if may_see_scholarships(_user(context)) else ""
    return payment.reference


@register.simple_tag(takes_context=True)
def refund_reason(context, refund) -> str:
    if refund.payment.provider == SCHOLARSHIP and not may_see_scholarships(_user(context)):
        return "Library credit returned"
    return refund.reason

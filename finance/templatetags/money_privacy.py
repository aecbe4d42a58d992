"""Who received a Pass the Buck scholarship is seen only by the coordinator and Finance
(``finance.view_fundentry``). Other staff never get a scholarship payment to show: the front
desk's receipt (``finance.services.offline.order_receipt``) and the registration's money trail
(``enrollment.admin``) leave the fund's payments and their refunds out and show the patron's own
price. These tags are the second line: should such a payment reach a page, it is named "Library
credit", with no reference or reason.

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

"""How a refund comes back, on pages: ``{% load refund_words %}`` then ``{{ refund|refund_label }}``
(a refund row's receipt line: "Refund to card (on its way)", "Refund by the library, check or
cash (to issue)") and ``{% refund_timing "card" %}`` (the one timing sentence). The words are
``finance.refund_words``'s, the same as every e-mail's."""

from django import template

from finance import refund_words

register = template.Library()


@register.filter
def refund_label(refund) -> str:
    return refund_words.refund_label(refund)


@register.simple_tag
def refund_timing(method: str) -> str:
    return refund_words.TIMING[refund_words.method_of(method) if method != "library" else "library"]

"""``{{ when|html_datetime }}``: a ``<time datetime>`` value, in the program's time zone, to the
second. (Django's ``date:'c'`` keeps microseconds, which HTML's datetime syntax refuses.)"""

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def html_datetime(value) -> str:
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()

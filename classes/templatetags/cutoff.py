"""The cutoff in the patron's words on pages and e-mails (``classes.cutoff_words``):
``{{ course|register_by }}``, ``{{ course|cancel_by }}``, ``{{ course|last_day }}``."""

from django import template

from classes import cutoff_words

register = template.Library()

register.filter("register_by", cutoff_words.register_by)
register.filter("cancel_by", cutoff_words.cancel_by)
register.filter("last_day", cutoff_words.last_day)

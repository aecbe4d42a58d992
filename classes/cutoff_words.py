"""The week-out cutoff in the patron's words: one way to say it on every page, e-mail, the front
desk and the call list (issue 10 §1).

Registration closes at local midnight ``semester.cutoff_days`` before the first meeting's day
(``Course.registration_closes_at``), so the last day to register — and to cancel for a full
refund — is the day before, inclusive (``Course.last_day_to_register``). Patrons are only ever
told that last day: "Register by Wed, Dec 9" and "Cancel by Wed, Dec 9 for a full refund".

Templates: ``{% load cutoff %}`` then ``{{ course|register_by }}``, ``{{ course|cancel_by }}``,
``{{ course|last_day }}`` (the filters of ``classes.templatetags.cutoff``).
"""

import datetime as dt


def day(value: dt.date | None) -> str:
    """"Wed, Dec 9": how a cutoff day is written everywhere."""
    return "" if value is None else f"{value:%a, %b} {value.day}"


def last_day(course) -> str:
    """The last day to register and to cancel for a full refund ("Wed, Dec 9"); "" without meetings."""
    return day(course.last_day_to_register)


def register_by(course) -> str:
    """"Register by Wed, Dec 9" ("" when the course has no meetings yet)."""
    last = last_day(course)
    return f"Register by {last}" if last else ""


def cancel_by(course) -> str:
    """"Cancel by Wed, Dec 9 for a full refund" ("" when the course has no meetings yet)."""
    last = last_day(course)
    return f"Cancel by {last} for a full refund" if last else ""

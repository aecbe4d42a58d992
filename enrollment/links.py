"""Signed, password-free links to a patron's "My registrations" page and to a waitlist claim."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

MANAGE_SALT = "enrollment.my-registrations"


def manage_token(email: str) -> str:
    return signing.TimestampSigner(salt=MANAGE_SALT).sign(email.strip().lower())


def email_from_token(token: str, *, max_age_days: int) -> str | None:
    """The e-mail address a token was made for, or None when it is forged or too old."""
    try:
        return signing.TimestampSigner(salt=MANAGE_SALT).unsign(token, max_age=max_age_days * 86400)
    except signing.BadSignature:
        return None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def manage_url(email: str) -> str:
    return absolute(reverse("enrollment:my-registrations", args=[manage_token(email)]))

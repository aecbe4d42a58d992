"""Signed, password-free links to a patron's "My registrations" page and to a waitlist claim.

The token carries no e-mail address (URLs end up in logs and browser histories): it signs the
opaque id (UUID) of the patron's latest order; the page shows every registration bought with
that order's e-mail address.
"""

from django.conf import settings
from django.core import signing
from django.db.models.functions import Lower
from django.urls import reverse

MANAGE_SALT = "enrollment.my-registrations"


def manage_token(email: str) -> str:
    from .models import Order

    order = Order.objects.filter(email__iexact=email.strip()).order_by("-created_at", "-pk").only("token").first()
    if order is None:
        raise ValueError("no order with that e-mail address")
    return signing.TimestampSigner(salt=MANAGE_SALT).sign(str(order.token))


def manage_urls(emails) -> dict[str, str]:
    """``manage_url`` of many addresses with one query: {address: link}, for each address with an
    order (the same link ``manage_url`` makes: the latest order's token, signed)."""
    from .models import Order

    wanted = {email.strip().lower(): email for email in emails if email}
    latest: dict[str, tuple] = {}
    rows = Order.objects.annotate(address=Lower("email")).filter(address__in=list(wanted))
    for address, created_at, pk, token in rows.values_list("address", "created_at", "pk", "token"):
        if address not in latest or (created_at, pk) > latest[address][:2]:
            latest[address] = (created_at, pk, token)
    signer = signing.TimestampSigner(salt=MANAGE_SALT)
    return {wanted[address]: absolute(reverse("enrollment:my-registrations-link", args=[signer.sign(str(row[2]))]))
            for address, row in latest.items()}


def email_from_token(token: str, *, max_age_days: int) -> str | None:
    """The e-mail address a token was made for, or None when it is forged or too old."""
    from .models import Order

    try:
        order_token = signing.TimestampSigner(salt=MANAGE_SALT).unsign(token, max_age=max_age_days * 86400)
    except signing.BadSignature:
        return None
    email = Order.objects.filter(token=order_token).values_list("email", flat=True).first()
    return email or None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def manage_url(email: str) -> str:
    return absolute(reverse("enrollment:my-registrations-link", args=[manage_token(email)]))

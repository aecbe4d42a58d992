"""Shared checks for the tests of patron and instructor e-mails rendered into the outbox."""

import re

import pytest
from django.utils.html import escape

from core.models import OutboxMessage, SiteOptions


@pytest.fixture(autouse=True)
def site():
    """The library the messages are signed with (autouse in the modules that import it)."""
    options = SiteOptions.current()
    options.library_name = "Salina Public Library"
    options.program_name = "Lifelong Learning"
    options.street_address = "301 W Elm St"
    options.city_state_zip = "Salina, KS 67401"
    options.phone = "785-555-0199"
    options.email = "classes@salinapubliclibrary.example"
    options.save()
    return options


def only_message(template: str) -> OutboxMessage:
    rows = list(OutboxMessage.objects.filter(template=template))
    assert len(rows) == 1, f"expected one {template} message, got {len(rows)}"
    return rows[0]


def parts(message: OutboxMessage, *, images: bool = False) -> tuple[str, str]:
    """The text and HTML parts, after checking they are whole and fetch nothing from outside: the
    only image a message may carry is an inline one (``cid:``), and only when ``images``."""
    text, html = message.body_text, message.body_html
    for part in (text, html, message.subject):
        assert "{{" not in part and "{%" not in part and "None" not in part
    assert "<!DOCTYPE html>" in html
    for forbidden in ("<script", "<link", "<style", "url("):
        assert forbidden not in html.lower(), forbidden
    srcs = re.findall(r'src="([^"]*)"', html)
    assert all(src.startswith("cid:") for src in srcs), srcs
    if not images:
        assert "<img" not in html.lower() and "src=" not in html.lower()
    # The plain text part is plain: no HTML, no HTML escaping, no inline-image references.
    assert "<p" not in text and "&amp;" not in text and "&#x27;" not in text and "cid:" not in text
    return text, html


def both(text: str, html: str, value: str) -> None:
    assert value in text, f"{value!r} not in the text part"
    assert escape(value) in html, f"{value!r} not in the HTML part"

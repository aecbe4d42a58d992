"""Content-Security-Policy and Permissions-Policy on every page; the card payment pages add exactly
the origins Stripe.js needs (Stripe's, or localstripe's in the demo and the tests); no template
served to a browser carries inline script or style."""

import re
from pathlib import Path

import pytest
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from core.headers import PermissionsPolicyMiddleware
from finance import gateway

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
NOT_SERVED = {"finance/donation_receipt.html"}  # rendered to PDF by WeasyPrint, never sent to a browser


def directives(header: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/cart/", "/my/", "/give/", "/staff/login/", "/no-such-page/"])
def test_every_page_has_a_strict_csp_and_a_permissions_policy(client, url):
    response = client.get(url)
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


def _payment_headers(settings, api_base: str) -> tuple[dict, str]:
    settings.STRIPE_API_BASE = api_base
    request = RequestFactory().get("/checkout/x/pay/")
    response = PermissionsPolicyMiddleware(lambda r: gateway.stripe_csp(HttpResponse()))(request)
    response = CSPMiddleware(lambda r: response).process_response(request, response)
    return directives(response["Content-Security-Policy"]), response["Permissions-Policy"]


def test_with_stripe_the_payment_pages_allow_exactly_stripe_js_origins(settings):
    policy, permissions = _payment_headers(settings, "")
    assert policy["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert policy["frame-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com",
                                   "https://hooks.stripe.com"]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["style-src"] == ["'self'"] and policy["default-src"] == ["'self'"]
    assert 'payment=(self "https://js.stripe.com" "https://*.js.stripe.com")' in permissions


def test_with_localstripe_the_payment_pages_allow_its_origin_instead(settings):
    policy, permissions = _payment_headers(settings, "http://127.0.0.1:8420/")
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert not any("stripe.com" in s for sources in policy.values() for s in sources)
    assert 'payment=(self "http://127.0.0.1:8420")' in permissions


def _served_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if not name.startswith("emails/") and name not in NOT_SERVED:
            yield name, path.read_text()


INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "on…= handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_served_template_has_inline_script_or_style():
    found = [f"{name}: {what}" for name, text in _served_templates() for what, pattern in INLINE.items()
             if pattern.search(text)]
    assert found == []


def test_our_admin_helpers_make_no_inline_style():
    for module in ("core/admin.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "classes/admin").glob("*.py")),
                   "enrollment/admin.py", "finance/admin.py"):
        assert not re.search(r"style\s*=", (ROOT / module).read_text()), module

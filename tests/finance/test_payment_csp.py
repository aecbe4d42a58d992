"""The card payment pages send a policy that lets the page's Stripe.js (here localstripe's) load."""

import pytest

from tests.core.test_security_headers import directives

from .stripe_helpers import open_pay_page

pytestmark = pytest.mark.stripe


def test_the_class_payment_page_allows_the_localstripe_origin(client, browser, held):
    response, _, _ = open_pay_page(client, held.order)
    origin = browser.server.base_url.rstrip("/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", origin]
    assert policy["connect-src"] == ["'self'", origin]
    assert f'payment=(self "{origin}")' in response["Permissions-Policy"]


def test_other_pages_do_not(client, browser, held):
    policy = directives(client.get("/").get("Content-Security-Policy"))
    assert policy["script-src"] == ["'self'"]

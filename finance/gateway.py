"""Stripe at the edge: the only module that talks to the Stripe API.

Configured from settings: ``STRIPE_SECRET_KEY`` and, when ``STRIPE_API_BASE`` is set, that base
address instead of Stripe's (the demo and the tests point it at **localstripe**, a fake Stripe
server). Real keys and no API base switch to real Stripe with no code change.

Every call translates Stripe's exceptions into ours: a card the bank refused raises
``CardDeclined``; anything else (network, auth, an answer we did not expect) raises
``GatewayUnavailable`` — "our side broke, you have not been charged". Logs carry Stripe ids and
error codes only, never names or e-mail addresses.
"""

import functools
import json
import logging
import re
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass

import stripe
from django.conf import settings

from .errors import CardDeclined, GatewayUnavailable

log = logging.getLogger(__name__)

CURRENCY = "usd"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
TIMEOUT_SECONDS = 15  # a checkout page must not hang for Stripe's default 80 s
LOCAL_WEBHOOK_NAME = "library-classes"


class IntentMissing(GatewayUnavailable):
    """Stripe does not know this PaymentIntent (404): e.g. a demo's localstripe lost its data."""


class WebhookInvalid(Exception):
    """A webhook whose payload or signature does not verify (forged, garbled or too old)."""


def is_local() -> bool:
    """True when the API is a local fake (localstripe) rather than Stripe itself."""
    return bool(settings.STRIPE_API_BASE)


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def publishable_key() -> str:
    return settings.STRIPE_PUBLISHABLE_KEY


def stripe_js_url() -> str:
    """Stripe.js for our pages: localstripe's fake one when the API is local, else Stripe's."""
    base = settings.STRIPE_API_BASE.rstrip("/")
    return f"{base}/js.stripe.com/v3/" if base else STRIPE_JS_URL


# The origins Stripe.js needs, as Stripe's integration security guide lists them for the Card
# Element with 3-D Secure: the script and its frames from js.stripe.com, its API calls to
# api.stripe.com, the 3-D Secure frames from hooks.stripe.com.
STRIPE_CSP = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}
STRIPE_PAYMENT_FRAMES = ["self", "https://js.stripe.com", "https://*.js.stripe.com"]


def stripe_csp(response):
    """Let a payment page's response load Stripe.js: Stripe's origins, or with localstripe (demo,
    tests) the local fake's origin instead — its Stripe.js, its API and its 3-D Secure step."""
    from core.headers import permissions_policy_allow

    base = settings.STRIPE_API_BASE.rstrip("/")
    if base:
        origin = urllib.parse.urlsplit(base)._replace(path="", query="", fragment="").geturl()
        update = {"script-src": [origin], "connect-src": [origin], "frame-src": [origin]}
        frames = ["self", origin]
    else:
        update, frames = STRIPE_CSP, STRIPE_PAYMENT_FRAMES
    response._csp_update = update  # added to the site's script-src, connect-src and frame-src ('self')
    permissions_policy_allow(response, "payment", frames)
    return response


def stripe_page(view):
    """View decorator of the card payment pages: their responses may load Stripe.js (``stripe_csp``)."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return stripe_csp(view(request, *args, **kwargs))
    return wrapped


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    options = {}
    if api_base:
        options["base_addresses"] = {"api": api_base.rstrip("/")}
    return stripe.StripeClient(
        api_key, max_network_retries=2, http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS), **options,
    )


def client() -> stripe.StripeClient:
    """The Stripe client for the current settings (one per key and base, reused)."""
    if not configured():
        log.error("card payments are not set up: STRIPE_SECRET_KEY is empty")
        raise GatewayUnavailable()
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


_KEYS = re.compile(r"\b(sk|rk|pk|whsec)_[A-Za-z0-9_*]+")


def staff_detail(exc: stripe.StripeError, what: str = "") -> str:
    """What Stripe really said, for staff (the refund's ``last_error``): the error's kind, HTTP status,
    code and message, with anything that looks like a key blanked. Patrons never see it."""
    message = str(getattr(exc, "user_message", None) or getattr(exc, "_message", None) or "").strip()
    parts = [type(exc).__name__]
    if exc.http_status:
        parts.append(f"HTTP {exc.http_status}")
    if exc.code:
        parts.append(str(exc.code))
    text = (f"{what}: " if what else "") + ", ".join(parts) + (f": {message}" if message else "")
    return _KEYS.sub(r"\1_[hidden]", text)[:300]


@contextmanager
def _calls(what: str):
    """Stripe's exceptions as ours: the patron's wording in ``message``, Stripe's own in ``detail``."""
    try:
        yield
    except stripe.CardError as exc:
        log.info("stripe %s: card error code=%s request=%s", what, exc.code, exc.request_id)
        error = CardDeclined()
        error.detail = staff_detail(exc, what)
        raise error from exc
    except stripe.StripeError as exc:
        log.warning("stripe %s failed: %s status=%s code=%s request=%s", what, type(exc).__name__,
                    exc.http_status, exc.code, exc.request_id)
        error = GatewayUnavailable()
        error.detail = staff_detail(exc, what)
        raise error from exc


def last_error(intent) -> tuple[str, str]:
    """(code, message) of a PaymentIntent's last payment error, or ("", "")."""
    error = intent.to_dict().get("last_payment_error") or {}
    return str(error.get("code") or error.get("decline_code") or ""), str(error.get("message") or "")


# --- PaymentIntents ------------------------------------------------------------------------------

def intent_create(*, amount_cents: int, metadata: dict, idempotency_key: str):
    """Create a card PaymentIntent. The idempotency key makes a retried call return the same one."""
    params = {
        "amount": amount_cents, "currency": CURRENCY, "payment_method_types": ["card"],
        "metadata": {k: str(v) for k, v in metadata.items()},
    }
    with _calls("create payment intent"):
        return client().v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})


def intent_retrieve(intent_id: str):
    try:
        with _calls("retrieve payment intent"):
            return client().v1.payment_intents.retrieve(intent_id)
    except GatewayUnavailable as exc:
        if getattr(exc.__cause__, "http_status", None) == 404:
            missing = IntentMissing()
            missing.detail = exc.detail
            raise missing from exc.__cause__
        raise


def intent_cancel(intent_id: str):
    with _calls("cancel payment intent"):
        return client().v1.payment_intents.cancel(intent_id)


def intent_confirm_local(intent_id: str, *, payment_method: str):
    """localstripe only: attach the card the fake Stripe.js tokenized, then confirm.

    localstripe's fake Stripe.js cannot confirm a PaymentIntent with a card (its
    ``confirmCardPayment`` only performs the 3-D Secure step of one that already needs it) and its
    API answers "Not implemented" to ``confirm(payment_method=…)``, so our server does that half:
    update the intent's payment method, then confirm it. Returns the intent as it stands afterwards
    (a declined card leaves it ``requires_payment_method`` with a ``last_payment_error``).
    """
    if not is_local():
        raise GatewayUnavailable("Server-side confirmation is only for the local test double.")
    api = client().v1.payment_intents
    with _calls("attach payment method"):
        api.update(intent_id, params={"payment_method": payment_method})
    try:
        with _calls("confirm payment intent"):
            return api.confirm(intent_id)
    except CardDeclined:
        return intent_retrieve(intent_id)


# --- Refunds ---------------------------------------------------------------------------------------

def refund_create(*, payment_intent: str, amount_cents: int, idempotency_key: str, metadata: dict):
    """Refund part of a PaymentIntent. Stripe answers a repeated idempotency key with the first refund."""
    params = {"payment_intent": payment_intent, "amount": amount_cents,
              "metadata": {k: str(v) for k, v in metadata.items()}}
    with _calls("create refund"):
        return client().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})


def refund_find(*, payment_intent: str, dedupe_key: str):
    """The refund already made on Stripe for ``dedupe_key`` (in its metadata), or None.

    Looked up before every refund, so a refund that went through on Stripe while our database
    lost the answer (a crash, a timeout) is adopted instead of made twice — even past the 24 hours
    Stripe keeps idempotency keys, and on localstripe, which ignores them.
    """
    with _calls("list refunds"):
        refunds = client().v1.refunds.list(params={"payment_intent": payment_intent, "limit": 100})
    for refund in refunds.data:
        if (refund.to_dict().get("metadata") or {}).get("dedupe_key") == dedupe_key:
            return refund
    return None


# --- Webhooks --------------------------------------------------------------------------------------

WEBHOOK_TOLERANCE_SECONDS = 300  # a signature this much older or newer than our clock is refused
ID_MAX_LENGTH = 120  # StripeEvent.event_id and Payment.reference
_EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_]+$")
_INTENT_ID = re.compile(r"^pi_[A-Za-z0-9_]+$")


class WebhookMalformed(WebhookInvalid):
    """A correctly signed webhook whose body is not an event we can read (says what, never echoes it)."""


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_type: str  # data.object.object: "payment_intent", …
    object_id: str  # data.object.id; for a PaymentIntent event a well-formed pi_… id


def _signed_at(sig_header: str) -> int | None:
    for item in sig_header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _event(body) -> WebhookEvent:
    if not isinstance(body, dict):
        raise WebhookMalformed("body is not a JSON object")
    event_id, kind, data = body.get("id"), body.get("type"), body.get("data")
    if not isinstance(event_id, str) or len(event_id) > ID_MAX_LENGTH or not _EVENT_ID.match(event_id):
        raise WebhookMalformed("event id missing, not a string, too long or not evt_…")
    if not isinstance(kind, str) or not kind or len(kind) > 80:
        raise WebhookMalformed("event type missing or not a short string")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise WebhookMalformed("event without data.object")
    object_id = obj.get("id")
    if not isinstance(object_id, str) or len(object_id) > ID_MAX_LENGTH:
        raise WebhookMalformed("data.object.id missing, not a string or too long")
    object_type = obj.get("object") if isinstance(obj.get("object"), str) else ""
    if kind.startswith("payment_intent.") and not _INTENT_ID.match(object_id):
        raise WebhookMalformed("PaymentIntent event whose intent id is not pi_…")
    return WebhookEvent(id=event_id, type=kind, object_type=object_type[:40], object_id=object_id)


def event_construct(payload: bytes, sig_header: str | None, *, now: float | None = None) -> WebhookEvent:
    """Verify a webhook's signature on the raw body (``STRIPE_WEBHOOK_SECRET``), refuse a signature
    more than ``WEBHOOK_TOLERANCE_SECONDS`` away from our clock either way (Stripe's library only
    refuses old ones), then read the event: ``WebhookInvalid`` for a bad signature,
    ``WebhookMalformed`` for a signed body that is not a readable event."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret or not sig_header:
        raise WebhookInvalid("no signature or no webhook secret")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookMalformed("body is not UTF-8") from exc
    try:
        stripe.WebhookSignature.verify_header(text, sig_header, secret, WEBHOOK_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookInvalid("signature did not verify or is too old") from exc
    signed_at = _signed_at(sig_header)
    now = time.time() if now is None else now
    if signed_at is None or abs(now - signed_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookInvalid("signature timestamp outside the tolerance")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise WebhookMalformed("body is not JSON") from exc
    return _event(body)


_registered: set[tuple[str, str, str]] = set()


def local_webhook_register() -> None:
    """Demo only: ask localstripe to send its webhooks to our endpoint (once per process).

    On when ``STRIPE_LOCAL_WEBHOOK_URL`` is set (``config.settings.local`` sets it when it points
    the API at localstripe). localstripe's route: ``POST /_config/webhooks/<name>`` with
    ``url`` and ``secret``; it then signs every event like Stripe does.
    """
    url = getattr(settings, "STRIPE_LOCAL_WEBHOOK_URL", "")
    if not (is_local() and url and settings.STRIPE_WEBHOOK_SECRET):
        return
    key = (settings.STRIPE_API_BASE, url, settings.STRIPE_WEBHOOK_SECRET)
    if key in _registered:
        return
    body = urllib.parse.urlencode({"url": url, "secret": settings.STRIPE_WEBHOOK_SECRET}).encode()
    address = f"{settings.STRIPE_API_BASE.rstrip('/')}/_config/webhooks/{LOCAL_WEBHOOK_NAME}"
    try:
        with urllib.request.urlopen(urllib.request.Request(address, data=body, method="POST"),  # noqa: S310
                                    timeout=TIMEOUT_SECONDS):
            pass
    except OSError as exc:
        log.warning("could not register the localstripe webhook: %s", type(exc).__name__)
        return
    _registered.add(key)

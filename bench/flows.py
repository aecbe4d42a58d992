"""What a patron (or the desk) does, over HTTP, as the pages and checkout.js do it: the form fields,
the CSRF token, the nonce, the card step against localstripe the way its fake Stripe.js does it, the
payment return and Stripe's webhook (signed as Stripe signs: ``t=<ts>,v1=HMAC-SHA256``)."""

import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

import aiohttp

from .load import Client

PAY_DATA = re.compile(r'data-([a-z-]+)="([^"]*)"')
FORM_ACTION = re.compile(r'<form id="checkout" method="post" action="([^"]+)"')
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letters(n: int, width: int = 5) -> str:
    """A name-safe spelling of n (NameField takes letters only): 0 → 'aaaaa'."""
    out = ""
    for _ in range(width):
        n, r = divmod(n, 26)
        out = LETTERS[r] + out
    return out


class FormFields(HTMLParser):
    """The fields of the first form whose tag contains ``marker``, with the values a browser would
    post (a select's selected option, else its first; checked boxes only); ``choices``: each
    select's option values."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker, self.data, self.choices = marker, {}, {}
        self._in, self._select = False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.marker in self.get_starttag_text():
            self._in = True
        if not self._in:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "checkbox", "radio"):
            self.data[name] = unescape(a.get("value") or "")
        elif tag == "input" and name and "checked" in a:
            self.data[name] = a.get("value") or "on"
        elif tag == "textarea" and name:
            self.data.setdefault(name, "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self.choices.setdefault(self._select, []).append(value)
            if "selected" in a or len(self.choices[self._select]) == 1:  # as a browser: else the first
                self.data[self._select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in = False


def form_fields(html: str, marker: str, *, choose: tuple[str, ...] = ()) -> dict:
    """The form's fields; each select named in ``choose`` left empty gets its first real option."""
    parser = FormFields(marker)
    parser.feed(html)
    for name in choose:
        if not parser.data.get(name):
            parser.data[name] = next((v for v in parser.choices.get(name, []) if v), "")
    return parser.data


@dataclass
class Outcome:
    ok: bool
    why: str = ""
    location: str = ""


@dataclass
class Stripe:
    base_url: str
    webhook_secret: str
    secret_key: str = "sk_test_localstripe"
    publishable_key: str = "pk_test_localstripe"


def _buyer(n: int) -> dict:
    tag = letters(n)
    return {"buyer-first_name": "Pat", "buyer-last_name": f"Bench{tag}", "buyer-email": f"buyer-{n}@bench.example",
            "buyer-phone": "785-555-0100"}


async def checkout_to_held(client: Client, course_path: str, course_id: int, n: int, *, seats: int = 1) -> Outcome:
    """Course page → add to cart → checkout page → place: the seats are held, the pay page is next."""
    page = await client.get(course_path, label="course page")
    if page.status != 200:
        return Outcome(False, f"course page {page.status}")
    if "Join the waitlist" in page.text:
        return Outcome(False, "full")
    if page.csrf():  # no Register button: the class is in this visitor's cart already (a retry)
        added = await client.post("/cart/add/", {"csrfmiddlewaretoken": page.csrf(), "course": str(course_id)},
                                  label="cart add", read=False)
        if added.status != 302:
            return Outcome(False, f"cart add {added.status}")
    form = await client.get("/checkout/", label="checkout page")
    if form.status != 200:
        return Outcome(False, f"checkout page {form.status}")
    data = form_fields(form.text, "checkout-form", choose=("buyer-referral",))
    if seats > 1:  # the attendee count: the page rebuilds the attendee forms, as a patron's click does
        data.update({"class0-attendees": str(seats), "action": "update"})
        form = await client.post("/checkout/", data, label="checkout update")
        data = form_fields(form.text, "checkout-form")
    data.update(_buyer(n), action="place")
    for i in range(seats):
        data[f"class0-attendee{i}-first_name"] = "Sam"
        data[f"class0-attendee{i}-last_name"] = f"Bench{letters(n)}{LETTERS[i % 26]}"
    placed = await client.post("/checkout/", data, label="checkout place")
    if placed.status == 302:
        location = placed.headers.get("Location", "")
        if "/pay/" not in location:  # filled meanwhile: the page put them on the waitlist
            return Outcome(False, "full (waitlisted)")
        return Outcome(True, location=location)
    if "is full" in placed.text:
        return Outcome(False, "full")
    return Outcome(False, f"place {placed.status}: {first_error(placed.text)}")


async def pay_by_card(client: Client, stripe: Stripe, pay_link: str) -> Outcome:
    """The pay page (from the order's link), the card tokenized and confirmed as checkout.js does
    with localstripe, the return page, then Stripe's webhook for the same PaymentIntent."""
    http: aiohttp.ClientSession = client.session  # to localstripe: another host, no cookies of ours
    page = await client.get(pay_link, label="pay page")
    if page.status == 302:  # an order's token link: exchanged for a grant, then the page
        page = await client.get(page.headers["Location"], label="pay page")
    if page.status != 200:
        return Outcome(False, f"pay page {page.status}")
    attrs = dict(PAY_DATA.findall(page.text))
    action = FORM_ACTION.search(page.text)
    intent = attrs.get("payment-intent", "")
    if not intent or not action:
        return Outcome(False, "pay page without a card form")
    async with http.post(stripe.base_url + "/v1/tokens", data={
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034",
        "card[cvc]": "123", "key": stripe.publishable_key, "payment_user_agent": "localstripe",
    }) as response:
        card = (await response.json())["card"]["id"]
    confirm = await client.post(unescape(action.group(1)), {"payment_intent": intent, "payment_method": card},
                                label="pay confirm", headers={"X-CSRFToken": page.csrf(), "Accept": "application/json"})
    if confirm.status != 200:
        return Outcome(False, f"pay confirm {confirm.status}")
    back = await client.get(json.loads(confirm.text)["return_url"], label="payment return", read=False)
    if back.status != 302 or not back.headers.get("Location", "").endswith("/done/"):
        return Outcome(False, f"payment return {back.status} (not to the confirmation)")
    auth = {"Authorization": f"Bearer {stripe.secret_key}"}
    async with http.get(f"{stripe.base_url}/v1/payment_intents/{intent}", headers=auth) as response:
        body = await response.json()
    payload, header = signed_event(stripe.webhook_secret, body)
    hook = await client.post("/stripe/webhook/", payload, label="webhook", read=False,
                             headers={"Content-Type": "application/json", "Stripe-Signature": header})
    if hook.status != 200:
        return Outcome(False, f"webhook {hook.status}")
    return Outcome(True, location=back.headers.get("Location", ""))


def signed_event(secret: str, intent: dict, *, type: str = "payment_intent.succeeded") -> tuple[bytes, str]:
    timestamp = int(time.time())
    event = {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": type, "created": timestamp,
             "livemode": False, "api_version": "2017-08-15", "data": {"object": intent}}
    payload = json.dumps(event).encode()
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


async def staff_login(client: Client, username: str, password: str) -> bool:
    page = await client.get("/staff/login/", label="staff login page")
    done = await client.post("/staff/login/?next=/staff/desk/", {
        "csrfmiddlewaretoken": page.csrf(), "username": username, "password": password, "next": "/staff/desk/",
    }, label="staff login", read=False)
    return done.status == 302 and "/login/" not in done.headers.get("Location", "")


async def desk_cash(client: Client, course_id: int, n: int) -> Outcome:
    """The desk's register form: one attendee, cash in full."""
    page = await client.get("/staff/desk/register/", label="desk page")
    if page.status != 200:
        return Outcome(False, f"desk page {page.status}")
    data = form_fields(page.text, "desk-register-form", choose=("buyer-referral",))
    tag = letters(n)
    data.update({
        "buyer-first_name": "Dee", "buyer-last_name": f"Desk{tag}", "buyer-email": f"desk-{n}@bench.example",
        "buyer-phone": "785-555-0100", "pay-provider": "cash", "pay-amount": "",
        "row0-course": str(course_id), "row0-first_name": "Dee", "row0-last_name": f"Desk{tag}",
        "row0-relationship": "self",
    })
    data.pop("action", None)
    done = await client.post("/staff/desk/register/", data, label="desk place")
    if done.status == 302 and "/staff/desk/orders/" in done.headers.get("Location", ""):
        return Outcome(True, location=done.headers["Location"])
    return Outcome(False, f"desk place {done.status}: {first_error(done.text)}")


def first_error(html: str) -> str:
    """The first error message on a page (for the bench's "not done" line), tags stripped."""
    for marker in ('class="errorlist', 'role="alert"', 'class="errornote'):
        at = html.find(marker)
        if at >= 0:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[at:at + 600])).strip()[:160]
    return ""

"""A real localstripe server for the ``stripe`` tests, and the browser's half of a card payment.

``localstripe_server`` (session) starts localstripe as a subprocess on a free loopback port and
waits until it answers; ``stripe_settings`` points Django's Stripe settings at it. Outside CI a
server that cannot start is a skip with the reason printed; with ``CI=true`` it is a failure.

The subprocess runs localstripe's own aiohttp app through ``config.localstripe``, with two
differences from its command line: it listens on 127.0.0.1 only, on a port the OS picks (printed
on its first line), and it keeps its store in memory (localstripe otherwise pickles everything to
the fixed file /tmp/localstripe.pickle on every write, a file every localstripe on the machine —
the demo's, another test run's, the benchmark's — loads and overwrites).

``Browser`` does over HTTP what localstripe's fake Stripe.js does in a page (see
``localstripe/localstripe-v3.js``): ``createToken`` is ``POST /v1/tokens`` with the publishable
key; ``confirmCardPayment``'s 3-D Secure step is ``POST /v1/payment_intents/<id>/_authenticate``
with the client secret. Test cards (localstripe's, as Stripe's): 4242424242424242 pays;
4000000000000341 is declined when charged (4000000000000002 is declined only when attached to a
customer: charged, it pays); 4000002500003155 and 4000002760003184 need 3-D Secure.
"""

import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

#: localstripe with a private, in-memory store on a free loopback port (``config.localstripe``).
LAUNCH = ["-m", "config.localstripe", "--host", "127.0.0.1", "--port", "0", "--print-port"]

BASE_DIR = Path(__file__).resolve().parent.parent
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"
START_TIMEOUT = 30.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(why: str):
    if _in_ci():
        pytest.fail(f"CI requires a localstripe server, and it could not start: {why}", pytrace=False)
    pytest.skip(f"needs a localstripe server ({why}); skipped outside CI, CI=true makes this a failure")


def _http(method: str, url: str, *, data: dict | None = None, body: bytes | None = None,
          headers: dict | None = None, timeout: float = 10.0) -> tuple[int, dict]:
    if data is not None:
        body = urllib.parse.urlencode(data, doseq=True).encode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback only)
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {}


@dataclass
class LocalStripe:
    base_url: str
    secret_key: str = "sk_test_localstripe"
    publishable_key: str = "pk_test_localstripe"
    webhook_secret: str = "whsec_test_localstripe"

    def api(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict]:
        """The API with the secret key (what our server may do)."""
        auth = {"Authorization": f"Bearer {self.secret_key}"}
        url = self.base_url + path
        if method == "GET" and data:
            url += "?" + urllib.parse.urlencode(data)
            data = None
        return _http(method, url, data=data, headers=auth)

    def intent(self, intent_id: str) -> dict:
        status, body = self.api("GET", f"/v1/payment_intents/{intent_id}")
        assert status == 200, body
        return body

    def refunds(self, intent_id: str) -> list[dict]:
        status, body = self.api("GET", "/v1/refunds", {"payment_intent": intent_id})
        assert status == 200, body
        return body["data"]


@dataclass
class Browser:
    """The browser side of a payment, through the same endpoints as localstripe's fake Stripe.js."""

    server: LocalStripe

    def card(self, number: str = CARD_OK) -> str:
        """``stripe.createToken(cardElement)``: the card's id (``card_…``) for the PaymentIntent."""
        status, body = _http("POST", self.server.base_url + "/v1/tokens", data={
            "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123",
            "key": self.server.publishable_key, "payment_user_agent": "localstripe",
        })
        assert status == 200, body
        return body["card"]["id"]

    def authenticate(self, client_secret: str, *, success: bool = True) -> tuple[int, dict]:
        """``stripe.confirmCardPayment(clientSecret)``: the 3-D Secure modal's answer."""
        intent_id = client_secret.split("_secret_")[0]
        url = f"{self.server.base_url}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}"
        body = json.dumps({"key": self.server.publishable_key, "client_secret": client_secret}).encode()
        return _http("POST", url, body=body)


@pytest.fixture(scope="session")
def localstripe_server():
    try:
        import localstripe  # noqa: F401
    except ImportError:
        _unavailable("the localstripe package is not installed (pip install -e '.[dev]')")
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, *LAUNCH], cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        line = proc.stdout.readline().strip() if ready else ""
        if not line.isdigit():
            proc.kill()
            proc.wait(5)
            log.seek(0)
            _unavailable(f"it did not start: {log.read()[-500:] or 'no output'}")
        server = LocalStripe(base_url=f"http://127.0.0.1:{line}")
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # the port is bound before the app serves: wait until it answers
            try:
                status, _ = _http("GET", server.base_url + "/js.stripe.com/v3/", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                _unavailable("it did not answer in time")
            time.sleep(0.05)  # polling another process until it answers, bounded by the deadline
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        proc.stdout.close()
        log.close()


@pytest.fixture
def stripe_settings(localstripe_server, settings):
    """Django's Stripe settings pointed at the test server; returns the server."""
    settings.STRIPE_SECRET_KEY = localstripe_server.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = localstripe_server.publishable_key
    settings.STRIPE_API_BASE = localstripe_server.base_url
    settings.STRIPE_WEBHOOK_SECRET = localstripe_server.webhook_secret
    settings.STRIPE_LOCAL_WEBHOOK_URL = ""
    return localstripe_server


@pytest.fixture
def browser(stripe_settings) -> Browser:
    return Browser(stripe_settings)

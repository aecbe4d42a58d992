"""The demo / development settings used by ``make run``: everything local.

DEBUG is off by default, so the demo shows the project's own 404 and 500 pages (never Django's
debug page, which lists every URL pattern); ``DEBUG=true`` in the environment turns it on for
development. Static files are served by WhiteNoise straight from the finders either way (no
``collectstatic`` needed for the demo).
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)

# WhiteNoise serves our static files and Bootstrap's from the finders, re-reading them as they
# change (a development convenience; production serves collectstatic's copy). It still expects
# STATIC_ROOT to exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# --- Stripe: with no keys in the environment, cards go to localstripe (a fake Stripe server that
# Procfile.dev starts on port 8420); its webhooks come back to our endpoint. Real keys win.
if not env.str("STRIPE_SECRET_KEY", default=""):
    STRIPE_SECRET_KEY = "sk_test_local"
    STRIPE_PUBLISHABLE_KEY = "pk_test_local"
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="http://127.0.0.1:8420")
    STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="whsec_local_demo")
    STRIPE_LOCAL_WEBHOOK_URL = SITE_URL.rstrip("/") + "/stripe/webhook/"  # noqa: F405

"""The demo / development settings used by ``make run``: DEBUG on, everything local."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# WhiteNoise serves from the finders in DEBUG; it still expects STATIC_ROOT to exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# --- Stripe: with no keys in the environment, cards go to localstripe (a fake Stripe server that
# Procfile.dev starts on port 8420); its webhooks come back to our endpoint. Real keys win.
if not env.str("STRIPE_SECRET_KEY", default=""):
    STRIPE_SECRET_KEY = "sk_test_local"
    STRIPE_PUBLISHABLE_KEY = "pk_test_local"
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="http://127.0.0.1:8420")
    STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="whsec_local_demo")
    STRIPE_LOCAL_WEBHOOK_URL = SITE_URL.rstrip("/") + "/stripe/webhook/"  # noqa: F405

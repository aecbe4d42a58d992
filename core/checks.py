"""Deployment checks of our own (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    """Throttles (the "send me my link" form) count in the cache: with several web processes a
    per-process cache would let each count on its own, so production needs Redis (REDIS_URL)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")):
        return [Warning("The cache is per process, so throttles would count per gunicorn worker.",
                        hint="Set REDIS_URL (the cache and Celery's broker).", id="core.W001")]
    return []

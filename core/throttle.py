"""A small fixed-window counter in the cache (Redis in production, so every web process counts
together): ``hit(key, limit=…, window_seconds=…)`` counts one request and says whether it is
within the limit. Keys name what is counted; callers hash anything personal before it gets here."""

from django.core.cache import cache
from django.utils import timezone


def hit(key: str, *, limit: int, window_seconds: int, now=None) -> bool:
    now = now or timezone.now()
    window = int(now.timestamp()) // window_seconds
    bucket = f"throttle:{key}:{window}"
    cache.add(bucket, 0, timeout=window_seconds + 60)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds + 60)
        count = 1
    return count <= limit

"""How often "send me my link" (/my/) may send: per e-mail address and per client address.

- An address gets at most ``LINKS_PER_ADDRESS`` links an hour, whoever asks: beyond that the answer
  is the same polite one and nothing is sent. Every address counts, known or not, so the answers
  never tell the two apart.
- One client (``core.client_ip``) may ask ``REQUESTS_PER_CLIENT`` times an hour, for any
  addresses, then is asked to wait (429). The library's public computers share one address, so the
  limit leaves room for a busy day at the branch.
"""

import hashlib

from core.client_ip import client_ip
from core.throttle import hit

LINKS_PER_ADDRESS = 3
REQUESTS_PER_CLIENT = 30
WINDOW_SECONDS = 3600


def client_allowed(request) -> bool:
    """Count this request against its client address; False once the client is over its limit."""
    address = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    return hit(f"my-link:client:{address}", limit=REQUESTS_PER_CLIENT, window_seconds=WINDOW_SECONDS)


def address_allowed(email: str) -> bool:
    """Count a link for ``email`` (any case); False once that address has had its links this hour."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]  # no address in the key
    return hit(f"my-link:email:{digest}", limit=LINKS_PER_ADDRESS, window_seconds=WINDOW_SECONDS)

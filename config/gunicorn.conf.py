"""Gunicorn's settings for production: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

The app trusts the proxy's headers — ``X-Forwarded-Proto`` for HTTPS (``SECURE_PROXY_SSL_HEADER``)
and ``X-Forwarded-For`` for the client's address (``TRUSTED_PROXY_COUNT``, for login lockouts and
throttles) — so gunicorn listens where only the proxy can reach it: the loopback address by default,
or a unix socket (``GUNICORN_BIND=unix:/run/library-classes/gunicorn.sock``). Never bind 0.0.0.0 on
a machine others can reach: anyone could then send their own headers.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# Threaded workers: a request waiting for a row lock (a checkout of a class someone is editing, at
# most DB_LOCK_TIMEOUT_MS) holds one thread, not a whole worker, so the rest of the site keeps being
# served. Each thread keeps its own database connection: workers x threads connections at most.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Gunicorn itself honours the proxy's scheme headers only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

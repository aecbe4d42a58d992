"""The demo / development settings used by ``make run``: DEBUG on, everything local."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# WhiteNoise serves from the finders in DEBUG; it still expects STATIC_ROOT to exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

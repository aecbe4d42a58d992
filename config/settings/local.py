"""The demo / development settings used by ``make run``: DEBUG on, everything local."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

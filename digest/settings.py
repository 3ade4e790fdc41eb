"""Kept so that ``DJANGO_SETTINGS_MODULE=digest.settings`` keeps working: the settings live in config.settings."""

from config.settings import *  # noqa: F403

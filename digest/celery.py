"""Kept so that ``celery -A digest`` keeps working: the Celery app lives in config.celery."""

from config.celery import app

__all__ = ["app"]

"""Kept so that ``gunicorn digest.wsgi`` keeps working: the application lives in config.wsgi."""

from config.wsgi import application

__all__ = ["application"]

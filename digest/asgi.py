"""Kept so that ``digest.asgi`` keeps working: the application lives in config.asgi."""

from config.asgi import application

__all__ = ["application"]

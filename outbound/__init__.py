"""Requests to addresses somebody else chose (webhook endpoints, companies' feeds), made safely.

One guard for every outbound request whose URL came from a user or a feed: `outbound.client.request()`.
It depends on nothing in the project but Django's settings, so every room may use it.
Mail leaves the same way, from an outbox table: `outbound.mail.send_outbox()`.
"""

from .client import OutboundError, OutboundRefused, Response, ResponseTooLarge, check_url, request

__all__ = ["OutboundError", "OutboundRefused", "Response", "ResponseTooLarge", "check_url", "request"]

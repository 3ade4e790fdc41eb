"""A real SMTP server for the tests and the bench (aiosmtpd, on loopback, a free port chosen at start).

It keeps every message it accepts, and can be told to answer like a troubled server: 421
(service unavailable, try later) to the next N recipients, or 550 (no such mailbox) to some
addresses for good.
"""

import email
import email.policy
import logging
import socket
import threading

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.sink.lock:
            self.sink.connections.add(session.peer)
            if self.sink.refuse_next > 0:
                self.sink.refuse_next -= 1
                self.sink.refused += 1
                return "421 4.3.2 Service not available, try again later"
            if address.lower() in self.sink.reject:
                return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.keep_messages is None or len(self.sink.raw) < self.sink.keep_messages:
                self.sink.raw.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            self.sink.count += 1
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, *, keep_messages=None):
        """``keep_messages``: how many messages to keep (all by default); every one is counted."""
        self.lock = threading.Lock()
        self.raw, self.count, self.keep_messages = [], 0, keep_messages
        self.refuse_next, self.refused, self.reject = 0, 0, set()
        self.connections = set()  # the client's (address, port) of each connection that named a recipient
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, data_size_limit=10_000_000)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    @property
    def settings(self):
        """The Django settings that send through this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }

    def messages(self):
        """Every accepted message, parsed back with Python's email package."""
        with self.lock:
            raw = [content for _, _, content in self.raw]
        return [email.message_from_bytes(content, policy=email.policy.default) for content in raw]

    def recipients(self):
        """Every envelope recipient, once per message accepted for them."""
        with self.lock:
            return [rcpt.lower() for _, rcpts, _ in self.raw for rcpt in rcpts]

    def clear(self):
        with self.lock:
            self.raw.clear()
            self.count = 0
            self.connections.clear()

"""The guarded HTTP client: every request to an address somebody else chose goes through `request()`.

What it guards against, cheapest check first:

- a URL that is not plain http(s), carries credentials, or names no host: refused before any lookup;
- an address inside our own network (loopback, private, link-local — where cloud metadata lives —,
  shared, multicast, reserved): the host is resolved once, every address it resolves to must be public
  (or inside `OUTBOUND_ALLOWED_NETWORKS`), and the connection goes to the address that was checked, so a
  second lookup that an attacker's DNS answers differently ("rebinding") never happens;
- a slow or endless answer: the connect timeout, a read timeout per read and one deadline for the whole
  request, redirects included;
- a huge answer: `Content-Length` checked first, then the bytes counted as they arrive;
- redirects: none followed unless the caller asks, and each hop is checked like the first URL.

TLS still verifies the certificate against the host name (SNI and the Host header carry the name; only the
TCP connection is pinned to the checked address).
"""

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout
from dataclasses import dataclass
from email.message import Message
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2048
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
_ASCII_PRINTABLE = "".join(chr(code) for code in range(33, 127))
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; judge that address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """The request could not be made or did not finish: network, timeout, protocol, too many redirects."""


class OutboundRefused(OutboundError):
    """The URL, or an address its host resolves to, is not one this site sends requests to."""


class ResponseTooLarge(OutboundError):
    """The answer is larger than the caller accepts; nothing of it is returned."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message  # case-insensitive: response.headers.get("etag")
    body: bytes
    url: str  # where the answer came from, after any redirects followed
    redirects: tuple[str, ...] = ()


def check_url(url, *, require_https=False):
    """The URL split into its parts, or OutboundRefused saying why it is not a URL we request.

    No lookup: cheap enough for form validation. An address given literally is judged here already.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise OutboundRefused(f"The URL must be between 1 and {MAX_URL_LENGTH} characters.")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise OutboundRefused("The URL contains spaces or control characters.")
    parts = urlsplit(url)
    allowed_schemes = ("https",) if require_https else ("http", "https")
    if parts.scheme not in allowed_schemes:
        raise OutboundRefused(f"Only {' or '.join(allowed_schemes)} URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("The URL must not carry a user name or password.")
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number in range
    except ValueError as error:
        raise OutboundRefused("The URL's port is not valid.") from error
    if not parts.hostname:
        raise OutboundRefused("The URL names no host.")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not is_allowed_address(literal):
        raise OutboundRefused(f"Requests to {literal} are not allowed: it is not a public address.")
    return parts


def is_allowed_address(address):
    """True for a public unicast address, or one inside OUTBOUND_ALLOWED_NETWORKS."""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        elif address.sixtofour is not None:
            address = address.sixtofour
        elif address.teredo is not None:
            address = address.teredo[1]
    if any(address in network for network in _allowed_networks()):
        return True
    # is_global alone lets through IPv6 ranges that are reserved or deprecated but may still be routed
    # inside a network (::/96 IPv4-compatible, ::ffff:0:0/96 translated, local-use NAT64, site-local).
    site_local = address.version == 6 and address.is_site_local
    return address.is_global and not (address.is_multicast or address.is_reserved or site_local)


def request(
    url,
    *,
    method="GET",
    headers=None,
    body=None,
    require_https=False,
    max_redirects=0,
    max_bytes=None,
    connect_timeout=None,
    read_timeout=None,
    total_timeout=None,
    truncate=False,
):
    """Send one request (following at most `max_redirects` redirects) and return the whole answer.

    Raises OutboundRefused for a URL or address we do not request, ResponseTooLarge past `max_bytes`
    (with truncate=True, the body is cut at `max_bytes` instead and the rest never read),
    OutboundError for everything else that stops it (network, timeouts, too many redirects).
    With max_redirects=0 a redirect is returned as it is.
    """
    max_bytes = settings.OUTBOUND_MAX_BYTES if max_bytes is None else max_bytes
    connect_timeout = settings.OUTBOUND_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    read_timeout = settings.OUTBOUND_READ_TIMEOUT if read_timeout is None else read_timeout
    total_timeout = settings.OUTBOUND_TOTAL_TIMEOUT if total_timeout is None else total_timeout
    deadline = time.monotonic() + total_timeout
    headers = {"User-Agent": settings.OUTBOUND_USER_AGENT, **(headers or {})}
    redirects = []
    while True:
        parts = check_url(url, require_https=require_https)
        response = _one_request(
            parts, method, headers, body, max_bytes, connect_timeout, read_timeout, deadline, url, redirects, truncate
        )
        location = response.headers.get("location")
        if response.status not in REDIRECT_STATUSES or not max_redirects or not location:
            return response
        if len(redirects) >= max_redirects:
            raise OutboundError(f"More than {max_redirects} redirects.")
        redirects.append(url)
        url = urljoin(url, location.strip())
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = "GET", None


def _one_request(
    parts, method, headers, body, max_bytes, connect_timeout, read_timeout, deadline, url, redirects, truncate
):
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(host, port, deadline)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout=_remaining(deadline, connect_timeout))
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    # An address typed or linked with non-ASCII characters is sent percent-encoded (UTF-8), as browsers
    # do; http.client refuses anything but ASCII in the request line.
    target = quote(target, safe=_ASCII_PRINTABLE)
    watchdog = None
    try:
        connection.connect()
        sock = connection.sock  # kept: the connection lets go of it once it knows the answer ends the connection
        # Socket timeouts bound each read, not the answer: a server dripping its status line, headers,
        # interim "100 Continue" answers or chunk trailers a byte at a time reads forever within them.
        # At the deadline the socket is shut, whatever read is under way.
        watchdog = _Watchdog(sock, deadline)
        connection.request(method, target, body=body, headers=headers)
        sock.settimeout(_remaining(deadline, read_timeout))
        answer = connection.getresponse()
        declared = answer.getheader("content-length")
        if not truncate and declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
            raise ResponseTooLarge(f"The answer is {int(declared)} bytes; at most {max_bytes} are accepted.")
        chunks, size = [], 0
        while True:
            sock.settimeout(_remaining(deadline, read_timeout))
            chunk = answer.read1(CHUNK_BYTES)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                if not truncate:
                    raise ResponseTooLarge(f"The answer is larger than {max_bytes} bytes.")
                chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                break
            chunks.append(chunk)
        if watchdog.fired:  # the last read ended because the socket was shut, not because the answer did
            raise OutboundError("The request took longer than allowed.")
        return Response(answer.status, answer.headers, b"".join(chunks), url, tuple(redirects))
    except OutboundError:
        raise
    except (OSError, http.client.HTTPException) as error:  # ssl.SSLError and TimeoutError are OSErrors
        if watchdog is not None and watchdog.fired:
            raise OutboundError("The request took longer than allowed.") from error
        if isinstance(error, TimeoutError):
            raise OutboundError(f"{host} did not answer in time.") from error
        raise OutboundError(f"Request to {host} failed: {error.__class__.__name__}: {error}"[:300]) from error
    finally:
        if watchdog is not None:
            watchdog.cancel()
        connection.close()


class _Watchdog:
    """Shut ``sock`` at ``deadline`` unless cancelled first; ``fired`` says whether it did."""

    def __init__(self, sock, deadline):
        self.sock, self.fired = sock, False
        self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self):
        self.fired = True
        with contextlib.suppress(OSError):  # already closed
            self.sock.shutdown(socket.SHUT_RDWR)

    def cancel(self):
        self.timer.cancel()


def _checked_address(host, port, deadline):
    """The one address we will connect to: the host resolved once, every answer public (or allowed)."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        future = _resolver(os.getpid()).submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            answers = future.result(timeout=_remaining(deadline, settings.OUTBOUND_CONNECT_TIMEOUT))
        except LookupTimeout as error:
            future.cancel()  # if still queued behind slow lookups, it must not take a thread from later ones
            raise OutboundError(f"Looking up {host} took too long.") from error
        except (OSError, UnicodeError) as error:
            raise OutboundError(f"{host} could not be resolved.") from error
        addresses = [ipaddress.ip_address(answer[4][0].split("%", 1)[0]) for answer in answers]
    refused = [address for address in addresses if not is_allowed_address(address)]
    if refused or not addresses:
        raise OutboundRefused(f"Requests to {host} are not allowed: it resolves to a non-public address.")
    return str(addresses[0])


def _remaining(deadline, cap):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundError("The request took longer than allowed.")
    return min(remaining, cap)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to `host` (Host header) over a TCP connection to the address that was checked."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self):
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the host name, not the address."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.pinned_address = address

    def connect(self):
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@lru_cache(maxsize=1)
def _resolver(pid):
    # getaddrinfo has no timeout of its own; a lookup that hangs is left behind in this small pool.
    # One pool per process: threads do not survive the fork of a Celery worker's children.
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-lookup")


def _allowed_networks():
    return _parse_networks(tuple(settings.OUTBOUND_ALLOWED_NETWORKS))


@lru_cache(maxsize=8)
def _parse_networks(networks):
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)

"""The guarded outbound client against a real HTTP server on loopback (which the test settings allow)."""

import ipaddress
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from outbound import OutboundError, OutboundRefused, ResponseTooLarge, check_url, request
from outbound.client import is_allowed_address


class Handler(BaseHTTPRequestHandler):
    seen = []  # (method, path, headers, body) of every request the server received

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        self.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        route = self.path.split("?")[0]
        if route == "/hello":
            self._send(200, b"hello")
        elif route == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(2 * 1024 * 1024))
            self.end_headers()
        elif route == "/big-chunked":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):  # 2.5 MB without a Content-Length, the connection closed at the end
                self.wfile.write(b"x" * 64 * 1024)
        elif route == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):  # every read succeeds, the whole would take 100 s
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        elif route == "/redirect":
            query = parse_qs(urlsplit(self.path).query)
            self.send_response(int(query.get("code", ["302"])[0]))
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"not here")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_a_request_to_an_allowed_address_returns_the_whole_answer_and_names_the_site(server, settings):
    response = request(f"{server}/hello?x=1")
    assert (response.status, response.body) == (200, b"hello")
    assert Handler.seen[0][1] == "/hello?x=1"
    assert Handler.seen[0][2]["User-Agent"] == settings.OUTBOUND_USER_AGENT


def test_an_address_with_non_ascii_characters_is_requested_percent_encoded_as_browsers_do(server):
    response = request(f"{server}/caf\u00e9-%C3%A9?q=\u00fcber&x=1", method="POST", body=b"{}")
    assert response.status == 404  # the server answered: the request was made
    assert Handler.seen[0][1] == "/caf%C3%A9-%C3%A9?q=%C3%BCber&x=1"


def test_a_post_carries_its_body_and_headers(server):
    response = request(f"{server}/hello", method="POST", body=b'{"a": 1}', headers={"Content-Type": "x/y"})
    assert response.status == 200
    method, _, headers, body = Handler.seen[0]
    assert (method, body, headers["Content-Type"]) == ("POST", b'{"a": 1}', "x/y")


def test_loopback_is_refused_unless_allowed_and_nothing_is_sent(server, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    port = server.rsplit(":", 1)[1]
    for url in (f"{server}/hello", f"http://localhost:{port}/hello"):
        with pytest.raises(OutboundRefused, match="not allowed"):
            request(url)
    assert Handler.seen == []


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",  # noqa: S104 -- the address is the one being refused
        "224.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
        "[fd00:ec2::254]",  # metadata over IPv6
        "[fe80::1]",
        "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
        "[2002:a00:1::]",  # 6to4 of 10.0.0.1
        "[::a00:1]",  # IPv4-compatible (deprecated) 10.0.0.1, carried by an automatic tunnel where one is set up
        "[::ffff:0:a00:1]",  # IPv4-translated (SIIT) 10.0.0.1
        "[64:ff9b:1::a00:1]",  # local-use NAT64 (RFC 8215) of 10.0.0.1
        "[fec0::1]",  # site-local (deprecated, still routed inside some networks)
    ],
)
def test_non_public_addresses_are_refused_before_any_connection(address, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(OutboundRefused):
        check_url(f"http://{address}/")
    with pytest.raises(OutboundRefused):
        request(f"http://{address}/", total_timeout=2)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/feed",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://example.com/",
        "http://user:secret@example.com/",
        "http://example.com:99999/",
        "http:///nohost",
        "http://exa mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com/" + "a" * 2100,
        "",
    ],
)
def test_urls_that_are_not_plain_http_are_refused_with_a_reason(url):
    with pytest.raises(OutboundRefused) as refusal:
        check_url(url)
    assert str(refusal.value)


def test_https_only_when_asked():
    check_url("http://example.com/")
    with pytest.raises(OutboundRefused, match="Only https"):
        check_url("http://example.com/", require_https=True)


def test_a_declared_large_answer_is_refused_before_reading_it(server):
    with pytest.raises(ResponseTooLarge, match="2097152 bytes"):
        request(f"{server}/big-declared", max_bytes=1024 * 1024)


def test_an_undeclared_large_answer_is_cut_off_at_the_limit(server):
    with pytest.raises(ResponseTooLarge):
        request(f"{server}/big-chunked", max_bytes=1024 * 1024)


def test_a_trickling_answer_cannot_hold_the_worker_past_the_deadline(server):
    started = time.monotonic()
    with pytest.raises(OutboundError, match=r"longer than allowed|in time"):
        request(f"{server}/trickle", total_timeout=1.0, read_timeout=5.0)
    assert time.monotonic() - started < 2.5


@contextmanager
def dripping(answer, every=0.3):
    """A server on loopback that answers the first request with ``answer`` one byte at a time."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            for byte in answer:
                if stop.wait(every):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client hung up: what the test wants

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200,  # headers, a byte at a time
        b"HTTP/1.1 100 Continue\r\n\r\n" * 50,  # interim answers without end
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + b"X-Trailer: y\r\n" * 50,  # trailers
    ],
    ids=["headers", "100-continue", "trailers"],
)
def test_an_answer_dripping_outside_the_body_cannot_hold_the_worker_past_the_deadline(settings, answer):
    """A reviewer's find: the deadline was checked between body reads only; these held a worker 6–20 s at 1 s."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with dripping(answer) as url:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="longer than allowed"):
            request(f"{url}/", total_timeout=1.0, read_timeout=0.5)
        assert time.monotonic() - started < 1.8


def test_a_port_that_does_not_answer_is_a_clear_error():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(OutboundError, match="failed"):
        request(f"http://127.0.0.1:{port}/")


def test_redirects_are_returned_not_followed_by_default(server):
    response = request(f"{server}/redirect?to=/hello")
    assert response.status == 302
    assert [seen[1] for seen in Handler.seen] == ["/redirect?to=/hello"]


def test_redirects_are_followed_when_asked_each_hop_checked(server, settings):
    response = request(f"{server}/redirect?to=/hello", max_redirects=2)
    assert (response.status, response.body, response.url) == (200, b"hello", f"{server}/hello")
    assert response.redirects == (f"{server}/redirect?to=/hello",)
    with pytest.raises(OutboundRefused):
        request(f"{server}/redirect?to={quote('http://10.1.2.3/feed')}", max_redirects=2)
    with pytest.raises(OutboundRefused):
        request(f"{server}/redirect?to={quote('file:///etc/passwd')}", max_redirects=2)
    with pytest.raises(OutboundError, match="More than 3 redirects"):
        request(f"{server}/loop", max_redirects=3)


def test_a_see_other_after_a_post_is_followed_with_a_get(server):
    response = request(f"{server}/redirect?to=/hello&code=303", method="POST", body=b"x", max_redirects=1)
    assert response.status == 200
    assert [seen[0] for seen in Handler.seen] == ["POST", "GET"]


def test_the_connection_goes_to_the_address_that_was_checked_never_a_second_lookup(server, monkeypatch):
    """DNS rebinding: the first answer is allowed, any later one would be private. There is no DNS server
    here to play the attacker, so the machine's resolver is replaced by one that changes its answer."""
    port = int(server.rsplit(":", 1)[1])
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding_getaddrinfo(host, *args, **kwargs):
        if host != "feeds.rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    response = request(f"http://feeds.rebind.test:{port}/hello")
    assert (response.status, response.body) == (200, b"hello")
    assert lookups == ["feeds.rebind.test"]
    assert Handler.seen[0][2]["Host"] == f"feeds.rebind.test:{port}"


def test_a_name_that_resolves_to_any_private_address_is_refused(server, monkeypatch):
    port = int(server.rsplit(":", 1)[1])

    def split_horizon(host, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", split_horizon)
    with pytest.raises(OutboundRefused):
        request(f"http://metadata.rebind.test:{port}/hello")
    assert Handler.seen == []


@pytest.mark.parametrize("address", ["1.1.1.1", "151.101.1.69", "2606:4700::1111", "2a00:1450:4001:80b::200e"])
def test_public_addresses_are_allowed(address, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    assert is_allowed_address(ipaddress.ip_address(address))


def test_lookups_that_timed_out_do_not_hold_back_later_ones(server, settings, monkeypatch):
    """A reviewer's find: lookups given up on stayed queued in the resolver's threads, so a feed full
    of links to one slow domain made the next good request time out too."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "slow.test":
            time.sleep(2.0)
            raise socket.gaierror("slow.test: no answer")
        if host == "ok.test":
            host = "127.0.0.1"
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = urlsplit(server).port
    settings.OUTBOUND_CONNECT_TIMEOUT = 0.1
    for _ in range(8):  # twice the resolver's threads
        with pytest.raises(OutboundError, match="took too long"):
            request(f"http://slow.test:{port}/hello")
    settings.OUTBOUND_CONNECT_TIMEOUT = 2.5
    assert request(f"http://ok.test:{port}/hello").body == b"hello"

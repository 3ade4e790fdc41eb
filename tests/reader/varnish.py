"""A real ``varnishd`` running ``deploy/varnish/default.vcl`` for a test, and a backend that can go down.

Varnish listens on two free ports chosen by the kernel (``-a http=127.0.0.1:0`` and the
``purge`` listener), found through ``varnishadm debug.listen_address``, works in a temporary
``-n`` directory, runs in the foreground (``-F``) as the test's child, and is stopped after it.
The VCL is the deployed file with only its backend's address replaced.
"""

import contextlib
import os
import selectors
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.services import missing

VCL = Path(settings.BASE_DIR) / "deploy" / "varnish" / "default.vcl"
DEPLOYED_BACKEND = '.host = "127.0.0.1";\n    .port = "8000";'
HOST = "localhost"  # a host in the tests' ALLOWED_HOSTS, spelled without a port as a reader's browser sends it


def varnishd_or_fail():
    """Return the path of varnishd; without it a CI run fails and a local run skips."""
    found = shutil.which("varnishd") or next(
        (path for path in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if os.access(path, os.X_OK)), None
    )
    if found is None:
        message = "varnishd is needed for the front cache tests (Debian packages varnish and varnish-modules)."
        missing(message)
    return found


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def cache(self):
        """What Varnish did: "hit", "miss" (fetched, kept) or "pass" (fetched, not kept)."""
        return self.headers.get("X-Cache")


class Varnish:
    def __init__(self, directory, backend_port):
        self.directory = Path(directory)
        self.backend_port = backend_port
        self.process = None

    def start(self):
        varnishd = varnishd_or_fail()
        vcl_text = VCL.read_text()
        assert vcl_text.count(DEPLOYED_BACKEND) == 1, "default.vcl's backend is not where the test expects it"
        vcl = self.directory / "test.vcl"
        vcl.write_text(vcl_text.replace(DEPLOYED_BACKEND, f'.host = "127.0.0.1";\n    .port = "{self.backend_port}";'))
        self.workdir = self.directory / "varnish"
        self.log = self.directory / "varnishd.log"
        command = [
            varnishd, "-F", "-j", "none", "-n", str(self.workdir), "-f", str(vcl), "-s", "malloc,32m",
            "-a", "http=127.0.0.1:0", "-a", "purge=127.0.0.1:0", "-T", "127.0.0.1:0",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"varnishd exited:\n{self.log.read_text()}")
            listening = self._listen_addresses()
            if listening:
                self.port, self.purge_port = listening["http"], listening["purge"]
                return self
            time.sleep(0.1)
        raise AssertionError(f"varnishd did not start:\n{self.log.read_text()}")

    def _listen_addresses(self):
        answer = subprocess.run(
            ["varnishadm", "-n", str(self.workdir), "debug.listen_address"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if answer.returncode != 0:
            return None
        found = {line.split()[0]: int(line.split()[2]) for line in answer.stdout.splitlines() if line.strip()}
        return found if {"http", "purge"} <= found.keys() else None

    def forget_everything(self):
        """Drop every object (a ban of all URLs): the next test starts with an empty cache."""
        subprocess.run(["varnishadm", "-n", str(self.workdir), "ban", "req.url", "~", "."], check=True, timeout=10,
                       capture_output=True)  # fmt: skip

    @property
    def purge_url(self):
        return f"http://127.0.0.1:{self.purge_port}"

    def get(self, path, *, cookie=None):
        return self.request("GET", path, headers={"Cookie": cookie} if cookie else {})

    def request(self, method, path, *, headers=(), port=None):
        """Send a request as a reader's browser would (Host without a port); return its Response."""
        headers = {"Host": HOST, **dict(headers)}
        url = f"http://127.0.0.1:{port or self.port}{path}"
        request = urllib.request.Request(url, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our own loopback Varnish
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Forwarder:
    """A TCP relay on a free port to the test's server, that the test can take down: a dead backend.

    Down, it refuses new connections and cuts the open ones, as a crashed web node would.
    """

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.open += [client, upstream]
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _relay(client, upstream):
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=30):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()

    def stop(self):
        self.running = False
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        self.listener.close()
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

"""A real HTTP receiver of webhooks on loopback, on a port chosen at run time."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every call (headers and body) and answers with ``status`` and ``answer`` (settable while it runs)."""

    def __init__(self, status=200):
        self.status = status
        self.answer = None  # bytes; None says "answered <status>"
        self.calls = []
        self.server = None
        self.port = None
        self._thread = None

    def start(self, port=0):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.calls.append({"headers": dict(self.headers.items()), "body": body, "path": self.path})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                answer = receiver.answer if receiver.answer is not None else f"answered {receiver.status}".encode()
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

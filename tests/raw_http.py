"""A server on loopback that answers one request with bytes as they are: answers no HTTP library would send."""

import socket
import threading
from contextlib import contextmanager


@contextmanager
def one_raw_answer(answer):
    """Listen on a free port of 127.0.0.1 (yielded), answer the first request with ``answer``, then close."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer_once():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(answer)

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        thread.join(5)
        server.close()

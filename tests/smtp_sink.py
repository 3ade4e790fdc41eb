"""A real SMTP server on loopback that keeps what it is sent, for tests (port 0: a free port)."""

import socketserver
import threading
from email import message_from_bytes, policy


class SMTPSink:
    """``refuse``: addresses whose RCPT TO is answered 550, as a server refuses an unknown mailbox."""

    def __init__(self, refuse=()):
        self.messages = []
        refused = {address.lower() for address in refuse}
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.reply("220 sink ready")
                while line := self.rfile.readline(4096):
                    verb = line.split(b" ", 1)[0].strip().upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.reply("250 sink")
                    elif verb == b"RCPT" and line.split(b"<", 1)[-1].split(b">", 1)[0].decode().lower() in refused:
                        self.reply("550 no such mailbox here")
                    elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                        self.reply("250 OK")
                    elif verb == b"DATA":
                        self.reply("354 go on")
                        data = b""
                        while (chunk := self.rfile.readline(65536)) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        sink.messages.append(message_from_bytes(data, policy=policy.default))
                        self.reply("250 kept")
                    elif verb == b"QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not here")

            def reply(self, text):
                self.wfile.write(text.encode() + b"\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

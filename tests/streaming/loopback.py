"""A fake provider on 127.0.0.1 that streams a body in small pieces, with pauses and a gate.

`StreamServer(frames)` answers every POST with a 200 `text/event-stream` in chunked transfer
encoding, each frame cut into `piece`-byte writes `pause` seconds apart. With `hold_after=n` it
sends the first n frames, then waits (at most `gate_timeout` s) for `gate` to be set before
sending the rest and records whether the gate opened in time: a test that sets the gate when
it sees the first delta proves the delta was published before the rest of the body was sent.
Between writes it notices a client that closed the connection (`client_closed`).
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StreamServer:
    """Threaded loopback server; use as a context manager; `url` is its base URL."""

    def __init__(self, frames: list[bytes], *, piece: int = 0, pause: float = 0.0, hold_after: int | None = None,
                 gate_timeout: float = 10.0, status: int = 200, content_type: str = "text/event-stream") -> None:
        self.frames, self.piece, self.pause = frames, piece, pause
        self.hold_after, self.gate_timeout = hold_after, gate_timeout
        self.status, self.content_type = status, content_type
        self.gate = threading.Event()
        self.gate_opened_in_time: bool | None = None
        self.sent_all = threading.Event()
        self.client_closed = threading.Event()
        self.first_byte_at: float | None = None
        self.requests: list[tuple[str, dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                server.requests.append((self.path, json.loads(self.rfile.read(length) or b"null")))
                self.send_response(server.status)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    server.serve(self.connection, self.wfile)
                except OSError:  # the client went away mid-stream
                    server.client_closed.set()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/"

    def serve(self, conn: socket.socket, out: Any) -> None:
        for n, frame in enumerate(self.frames):
            if n == self.hold_after:
                self.gate_opened_in_time = self.gate.wait(self.gate_timeout)
            step = self.piece or len(frame)
            for start in range(0, len(frame), step):
                if self._closed_by_client(conn):
                    self.client_closed.set()
                    return
                data = frame[start:start + step]
                out.write(b"%x\r\n%s\r\n" % (len(data), data))
                out.flush()
                if self.first_byte_at is None:
                    self.first_byte_at = time.perf_counter()
                if self.pause:
                    time.sleep(self.pause)
        out.write(b"0\r\n\r\n")
        out.flush()
        self.sent_all.set()

    @staticmethod
    def _closed_by_client(conn: socket.socket) -> bool:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def __enter__(self) -> StreamServer:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

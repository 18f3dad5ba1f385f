"""A scripted fake provider on 127.0.0.1 (stdlib `http.server`), for fault and bench runs.

Each request consumes the next action of the script (the last one repeats):

    Reply(status, body, headers)   an HTTP response (body: JSON value, or str/bytes as is)
    Reset()                        close the connection with a TCP RST, no response
    Hang()                         never answer (until the server stops)
    Raw(bytes)                     write these bytes and close (e.g. a truncated body)
    Trickle(n, every)              a 200 whose body arrives one byte every `every` seconds
    Barrier(parties, reply)        wait until `parties` requests are in flight, then reply
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Union


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Reset:
    pass


@dataclass
class Hang:
    pass


@dataclass
class Raw:
    data: bytes


@dataclass
class Trickle:
    count: int = 1000
    every: float = 0.05


@dataclass
class Barrier:
    parties: int
    reply: Reply


Action = Union[Reply, Reset, Hang, Raw, Trickle, Barrier]


class FakeProvider:
    """The server's state: its script, and every request body it received."""

    def __init__(self, script: list[Action]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.barriers: dict[int, threading.Barrier] = {}
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def next_action(self) -> Action:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def barrier(self, action: Barrier) -> threading.Barrier:
        with self.lock:
            return self.barriers.setdefault(id(action), threading.Barrier(action.parties, timeout=10))


def _handler(state: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.act(state.next_action())

        def act(self, action: Action) -> None:
            if isinstance(action, Barrier):
                try:
                    state.barrier(action).wait()
                except threading.BrokenBarrierError:
                    action = Barrier(0, Reply(500, {"error": {"message": "requests were serialised"}}))
                self.act(action.reply)
            elif isinstance(action, Reply):
                data = action.payload()
                self.send_response(action.status)
                for key, value in {"Content-Type": "application/json", **action.headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif isinstance(action, Reset):
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
            elif isinstance(action, Hang):
                state.stop.wait(30)
                self.close_connection = True
            elif isinstance(action, Raw):
                self.wfile.write(action.data)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif isinstance(action, Trickle):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(action.count))
                self.end_headers()
                for _ in range(action.count):
                    if state.stop.wait(action.every):
                        break
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        break
                self.close_connection = True

    return Handler


@contextmanager
def fake_provider(*script: Action) -> Iterator[FakeProvider]:
    """Serve `script` on 127.0.0.1 (a free port) for the duration of the block."""
    state = FakeProvider(list(script))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

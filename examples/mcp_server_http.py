"""The calculator MCP server of `mcp_server_stdio.py` over SSE and WebSocket, standard library only.

The server side of the seed's "Advanced Patterns > MCP as tools" for its two network
transports, on one port:

- `GET /sse` + `POST /messages?session_id=...`: MCP's HTTP with SSE transport (2024-11-05).
  The stream's first event, `endpoint`, names the URL to POST messages to; every answer comes
  back on the stream as a `message` event, and the POST itself gets `202 Accepted`.
- `GET /ws` (an RFC 6455 upgrade, subprotocol `mcp`): one JSON-RPC message per text frame, as
  the official MCP Python SDK 1.x serves it. This small server answers pings and closes, and
  does not reassemble fragmented messages (agentkit-min never fragments what it sends).

`examples/mcp_sse.py` and `examples/mcp_ws.py` start it in a thread on a free port. To run it
on its own (it binds 127.0.0.1 only):

    python3 examples/mcp_server_http.py 8000    # http://127.0.0.1:8000/sse, ws://127.0.0.1:8000/ws
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import queue
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from mcp_server_stdio import handle  # the calculator: one JSON-RPC message in, its answer out

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
PARSE_ERROR = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}


def answer(data: bytes) -> dict[str, Any] | None:
    """The calculator's reply to one message (None for a notification)."""
    try:
        return handle(json.loads(data))
    except ValueError:
        return PARSE_ERROR


class Handler(BaseHTTPRequestHandler):
    """One connection: an SSE stream, a POSTed message, or a WebSocket."""

    protocol_version = "HTTP/1.1"
    server: MCPServer

    def do_GET(self) -> None:
        """`/sse` opens a stream, `/ws` upgrades to a WebSocket."""
        path = urlsplit(self.path).path
        if path == "/sse":
            self.sse_stream()
        elif path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.websocket()
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        """A message for an SSE session: its answer goes on that session's stream."""
        url = urlsplit(self.path)
        outbox = self.server.sessions.get(parse_qs(url.query).get("session_id", [""])[0])
        if url.path != "/messages" or outbox is None:
            self.send_error(404, "Could not find session")
            return
        reply = answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if reply is not None:
            outbox.put(reply)
        self.send_response(202)
        self.send_header("Content-Length", "8")
        self.end_headers()
        self.wfile.write(b"Accepted")

    def sse_stream(self) -> None:
        """The session's event stream, until the client leaves or the server stops."""
        session = uuid.uuid4().hex
        outbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.server.sessions[session] = outbox
        self.close_connection = True  # the stream's body ends when the connection does
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(f"event: endpoint\ndata: /messages?session_id={session}\n\n".encode())
            while not self.server.stopping.is_set():
                try:
                    self.wfile.write(f"event: message\ndata: {json.dumps(outbox.get(timeout=0.5))}\n\n".encode())
                except queue.Empty:
                    self.wfile.write(b": ping\n\n")  # a comment: finds out when the client has gone
        except OSError:
            pass
        finally:
            del self.server.sessions[session]

    def websocket(self) -> None:
        """Accept the upgrade (RFC 6455 section 4.2.2), then answer each text frame."""
        key = self.headers.get("Sec-WebSocket-Key", "").encode()
        self.close_connection = True
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode())
        self.send_header("Sec-WebSocket-Protocol", "mcp")
        self.end_headers()
        try:
            while not self.server.stopping.is_set():
                opcode, payload = self.read_frame()
                if opcode == 0x8:  # close: echo the status code and stop (5.5.1)
                    self.write_frame(0x8, payload[:2])
                    return
                if opcode == 0x9:  # ping -> pong with the same payload (5.5.2)
                    self.write_frame(0xA, payload)
                elif opcode == 0x1 and (reply := answer(payload)) is not None:
                    self.write_frame(0x1, json.dumps(reply).encode())
        except (OSError, EOFError):
            pass

    def read_frame(self) -> tuple[int, bytes]:
        """One client frame: its opcode and unmasked payload (client frames are masked, 5.3)."""
        head = self.rfile.read(2)
        if len(head) < 2:
            raise EOFError("the client closed the connection")
        size = head[1] & 0x7F
        if size >= 126:
            size = int.from_bytes(self.rfile.read(2 if size == 126 else 8), "big")
        mask, data = self.rfile.read(4), self.rfile.read(size)
        return head[0] & 0x0F, bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))

    def write_frame(self, opcode: int, data: bytes) -> None:
        """One unmasked, unfragmented server frame (5.2)."""
        n = len(data)
        size = bytes([n]) if n < 126 else b"\x7e" + n.to_bytes(2, "big") if n < 65536 else b"\x7f" + n.to_bytes(8, "big")
        self.wfile.write(bytes([0x80 | opcode]) + size + data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the examples print the agent's steps, not HTTP logs."""


class MCPServer(ThreadingHTTPServer):
    """The calculator over SSE and WebSocket on 127.0.0.1 (port 0: a free one)."""

    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.sessions: dict[str, queue.SimpleQueue[dict[str, Any]]] = {}
        self.stopping = threading.Event()
        self.port: int = self.server_address[1]


@contextlib.contextmanager
def running(port: int = 0) -> Iterator[MCPServer]:
    """Serve in a background thread for the duration of the block."""
    server = MCPServer(port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def main(port: int = 8000) -> None:
    """Serve on `port` until Ctrl-C."""
    with MCPServer(port) as server:
        print(f"MCP calculator: http://127.0.0.1:{server.port}/sse and ws://127.0.0.1:{server.port}/ws")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8000)

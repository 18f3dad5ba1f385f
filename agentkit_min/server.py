"""An HTTP JSON API for networks and agents, standard library only (Deployment page, section 7.1).

    server = create_server(networks=[network], token="s3cret")
    server.listen(3010)            # serves in a background thread, 127.0.0.1 by default
    server.serve_forever()         # block until shutdown(), Ctrl-C or SIGTERM (graceful)

Routes (every route but /health needs `Authorization: Bearer <token>` when a token is set):

    GET    /health                  {"status": "ok"}
    POST   /networks/<slug>/runs    run a network     body {"input": str | UserMessage JSON,
    POST   /agents/<slug>/runs      run an agent            "state"?: {...data}, "thread_id"?: str}
    GET    /threads[?user_id=u]     list threads            (when `history` has list_threads)
    GET    /threads/<id>            a thread's results      (when `history` has load)
    DELETE /threads/<id>            delete a thread         (when `history` has delete_thread)

A run answers `{"id", "output", "results", "state", "thread_id"}`: `results` are the results
this run produced (AgentResult JSON), `output` the last one's output, `state` the final
`state.data`. With `Accept: text/event-stream` the run's events (streaming.py) are sent as
Server-Sent Events instead, one per chunk (`id`, `event: <name>`, `data: <chunk JSON>`), then
`event: result` with the run JSON or `event: error` with an error object.

Errors are `{"error": {"type", "message"}}`: 400 bad JSON (NaN, too deep) or body (names the
field), or ambiguous framing (RFC 9112 6.3), 401 missing/wrong token (with `WWW-Authenticate`),
404 unknown route/network/agent, 405 wrong method (with `Allow`), 408 request not complete in
`request_timeout`, 411 no Content-Length, 413 body over `max_body_bytes`, 502 the model failed
(its typed error's message, which never holds keys), 503 shutting down, over `max_connections`
or history busy (`Retry-After`), 504 run timeout, 500 anything else (logged at ERROR).

Design: `http.server.ThreadingHTTPServer` parses HTTP (a thread per connection, keep-alive),
and every run is a coroutine on ONE event-loop thread, so thousands of runs share a loop while
slow clients only hold a thread. `history=` is given to each served network and agent that has
none (on a shallow copy; the caller's objects are not changed). Not here: TLS (put a proxy in
front), the Inngest protocol (agentkit_min.inngest), chunked request bodies, CORS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import hmac
import json
import logging
import re
import signal
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .errors import AgentKitError, HistoryBusyError, HistoryError, ModelError, UsageError
from .messages import UserMessage
from .state import State

if TYPE_CHECKING:
    from .agent import Agent
    from .network import Network
    from .result import AgentResult

__all__ = ["AgentServer", "create_server", "run_json"]

log = logging.getLogger(__name__)


class HTTPError(Exception):
    """An error answer: status, JSON error type and message, extra headers."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.headers = status, type_, message, headers or {}


def run_json(run_id: str, state: State[Any], new_results: Sequence[AgentResult]) -> dict[str, Any]:
    """The JSON answer of one run (also what `agentkit_min.inngest` functions return)."""
    return {
        "id": run_id,
        "output": list(new_results[-1].output) if new_results else [],
        "results": [r.to_dict() for r in new_results],
        "state": state.data,
        "thread_id": state.thread_id,
    }


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class AgentServer:
    """Serves networks and agents over HTTP. Build it with `create_server`."""

    def __init__(self, networks: Sequence[Network[Any]], agents: Sequence[Agent], token: str | None,
                 max_body_bytes: int, history: Any, run_timeout: float | None, request_timeout: float,
                 max_connections: int) -> None:
        self.token, self.max_body_bytes, self.history, self.run_timeout = token, max_body_bytes, history, run_timeout
        self.request_timeout, self.max_connections = request_timeout, max_connections
        self.targets: dict[tuple[str, str], Any] = {}
        for kind, items in (("networks", networks), ("agents", agents)):
            for item in items:
                if history is not None and getattr(item, "history", None) is None:
                    item = copy.copy(item)
                    item.history = history
                slug = _slugify(item.name)
                if (kind, slug) in self.targets:
                    raise UsageError(f"create_server: two {kind} share the route slug {slug!r}; rename one")
                self.targets[(kind, slug)] = item
        self._httpd: _HTTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: list[threading.Thread] = []
        self._busy = threading.Condition()
        self._in_flight = 0
        self._lock = threading.Lock()  # guards the two sets, changed from many threads
        self._runs: set[concurrent.futures.Future[Any]] = set()
        self._connections: dict[Any, float | None] = {}  # handler -> deadline of the request it reads
        self.slots = threading.Semaphore(max_connections)  # one per connection being served
        self.closing = False
        self._stopped = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (useful after `listen(0)`)."""
        if self._httpd is None:
            raise UsageError("the server is not listening; call listen(port) first")
        return int(self._httpd.server_address[1])

    def listen(self, port: int = 3010, host: str = "127.0.0.1",
               callback: Callable[[], Any] | None = None) -> AgentServer:
        """Bind `host:port` and serve in background threads; `callback()` runs once listening."""
        from ._server_handler import _Handler

        if self._httpd is not None:
            raise UsageError("the server is already listening")
        self._loop = asyncio.new_event_loop()
        self._httpd = _HTTPServer((host, port), _Handler, self)
        httpd = self._httpd
        # A short poll interval: shutdown() waits for the accept loop's next poll.
        for name, target in (("loop", self._loop.run_forever), ("http", lambda: httpd.serve_forever(0.05))):
            thread = threading.Thread(target=target, name=f"agentkit-server-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        threading.Thread(target=self._watch, name="agentkit-server-deadlines", daemon=True).start()
        log.info("agentkit-min server listening on http://%s:%d", host, self.port)
        if callback is not None:
            callback()
        return self

    def serve_forever(self, port: int = 3010, host: str = "127.0.0.1") -> None:
        """Listen on `host:port` if not yet; block until `shutdown()`, Ctrl-C or SIGTERM (then shut down)."""
        if self._httpd is None:
            self.listen(port, host)
        term = threading.Event()
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: term.set()) if in_main else None
        try:
            while not self._stopped.wait(0.2) and not term.is_set():
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)
        self.shutdown()

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop accepting, wait up to `timeout` s for in-flight requests, cancel the rest; True
        when every in-flight request finished in time."""
        if self._httpd is None or self._loop is None or self._stopped.is_set():
            return True
        self.closing = True
        self._httpd.shutdown()  # the accept loop ends; open connections keep being served
        with self._busy:  # requests being answered, and runs whose SSE client went away
            clean = self._busy.wait_for(lambda: self._in_flight == 0 and not self._runs, timeout)
            if not clean:
                with self._lock:
                    runs = list(self._runs)
                for fut in runs:
                    fut.cancel()  # handlers answer 503; give them a moment to write it
                self._busy.wait_for(lambda: self._in_flight == 0, 5.0)
            with self._lock:
                idle = list(self._connections)  # idle keep-alive connections
            for handler in idle:
                _close_quietly(handler.connection)
        self._httpd.server_close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(5.0)
        self._loop.close()
        self._stopped.set()
        return clean

    def __enter__(self) -> AgentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- requests --------------------------------------------------------------------------

    def track(self, delta: int) -> None:
        """Count runs in flight (+1 / -1) so shutdown can wait for them."""
        with self._busy:
            self._in_flight += delta
            self._busy.notify_all()

    def check_token(self, header: str | None) -> None:
        """Raise a 401 HTTPError unless `header` carries the configured bearer token."""
        if self.token is None:
            return
        realm = 'Bearer realm="agentkit-min"'
        if not header or not header.startswith("Bearer "):
            raise HTTPError(401, "unauthorized", "missing bearer token", {"WWW-Authenticate": realm})
        if not hmac.compare_digest(header[7:].strip().encode(), self.token.encode()):
            raise HTTPError(401, "unauthorized", "invalid bearer token",
                            {"WWW-Authenticate": realm + ', error="invalid_token"'})

    def target(self, kind: str, slug: str) -> Any:
        """The network or agent served at /<kind>/<slug>, or a 404 HTTPError naming the known ones."""
        found = self.targets.get((kind, slug))
        if found is None:
            known = ", ".join(s for k, s in self.targets if k == kind) or "none"
            raise HTTPError(404, "not_found", f"no {kind[:-1]} {slug!r} (available: {known})")
        return found

    def start_run(self, target: Any, user_input: str | UserMessage, state: State[Any],
                  publish: Callable[[dict[str, Any]], Any] | None) -> concurrent.futures.Future[Any]:
        """Schedule a run on the loop thread."""
        assert self._loop is not None
        fut = asyncio.run_coroutine_threadsafe(self._execute(target, user_input, state, publish), self._loop)
        with self._lock:
            self._runs.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._runs.discard(fut)
        with self._busy:  # never while holding _lock: shutdown() takes them the other way round
            self._busy.notify_all()

    def connection(self, handler: Any, reading: bool | None) -> None:
        """Track a connection: reading a request (its deadline runs), answering one, or gone (None)."""
        with self._lock:
            if reading is None:
                self._connections.pop(handler, None)
            else:
                self._connections[handler] = time.monotonic() + self.request_timeout if reading else None

    def _watch(self) -> None:
        # A client dripping its request a byte at a time resets any per-read timeout, so one
        # thread checks each request's total deadline and stops reading late ones (SHUT_RD:
        # the handler still writes its 408 answer).
        while not self._stopped.wait(min(1.0, self.request_timeout / 4)):
            now = time.monotonic()
            with self._lock:
                late = [h for h, deadline in self._connections.items() if deadline is not None and deadline < now]
                for handler in late:
                    self._connections[handler] = None
            for handler in late:
                handler.timed_out = True
                _close_quietly(handler.connection, socket.SHUT_RD)

    async def _execute(self, target: Any, user_input: str | UserMessage, state: State[Any],
                       publish: Callable[[dict[str, Any]], Any] | None) -> dict[str, Any]:
        from .network import Network

        if isinstance(target, Network):
            run = await target.run(user_input, state=state, publish=publish)
            return run_json(run.run_id, run.state, run.state.get_results_from(run.initial_result_count))
        result = await target.run(user_input, state=state, publish=publish)
        return run_json(result.id or str(uuid.uuid4()), state, [result])

    def wait(self, fut: concurrent.futures.Future[Any], *, now: bool = False) -> dict[str, Any]:
        """The run's JSON, or the HTTPError its failure maps to (`now`: the time is already up)."""
        try:
            out: dict[str, Any] = fut.result(0 if now else self.run_timeout)
            return out
        except concurrent.futures.CancelledError:
            raise HTTPError(503, "shutting_down", "the server is shutting down") from None
        except Exception as exc:
            if not fut.done():  # our wait timed out; a run that raised a TimeoutError of its own is done
                fut.cancel()
                raise HTTPError(504, "timeout", f"the run took longer than {self.run_timeout} s") from None
            raise failure(exc, "the run") from None


def failure(exc: Exception, what: str) -> HTTPError:
    """Log a failure at ERROR with its traceback; the HTTPError to answer for it."""
    log.error("%s failed: %s: %s", what, type(exc).__name__, exc, exc_info=exc)
    name = type(exc).__name__
    if isinstance(exc, HistoryBusyError):
        return HTTPError(503, name, f"{exc.reason}; retry", {"Retry-After": "1"})
    if isinstance(exc, HistoryError):  # `reason`: the answer must not show the server's file path
        return HTTPError(400 if isinstance(exc, ValueError) else 500, name, exc.reason)
    if isinstance(exc, AgentKitError):
        return HTTPError(502 if isinstance(exc, ModelError) else 500, name, str(exc))
    return HTTPError(500, "internal_error", f"{what} failed; see the server log")


def _close_quietly(conn: Any, how: int = socket.SHUT_RDWR) -> None:
    try:
        conn.shutdown(how)  # wakes a thread blocked reading the next request
    except OSError:
        pass


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 1024  # the listen backlog: bursts of clients are queued, not refused
    block_on_close = False  # idle keep-alive connections must not block server_close()

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 app: AgentServer) -> None:
        self.app = app
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.app.slots.acquire(blocking=False):
            return super().process_request(request, client_address)
        try:  # over max_connections: answer here in the accept thread, start no thread
            request.settimeout(1.0)
            body = b'{"error":{"type":"too_many_connections","message":"the server is at its connection limit; retry"}}'
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1"
                            b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            pass
        super().shutdown_request(request)  # took no slot

    def shutdown_request(self, request: Any) -> None:  # every admitted connection ends here
        self.app.slots.release()
        super().shutdown_request(request)


def create_server(*, networks: Sequence[Network[Any]] = (), agents: Sequence[Agent] = (),
                  token: str | None = None, max_body_bytes: int = 1_000_000, history: Any = None,
                  run_timeout: float | None = 300.0, request_timeout: float = 30.0,
                  max_connections: int = 1000) -> AgentServer:
    """Create an HTTP server for networks and agents (AgentKit's `createServer`, as a JSON API).

    Args:
        networks: served at `POST /networks/<slug>/runs` (slug: the name lowercased, other
            characters -> '-').
        agents: served standalone at `POST /agents/<slug>/runs`.
        token: when set, every route but /health needs `Authorization: Bearer <token>`.
        max_body_bytes: larger request bodies get 413 without being read.
        history: history hooks for networks and agents that have none (e.g. SQLiteHistory);
            with `list_threads` / `load` / `delete_thread` it also serves the /threads routes.
        run_timeout: seconds before a run is cancelled and answered 504; None waits forever.
        request_timeout: seconds a client has to send a whole request (line, headers, body),
            from the connection's start or the previous answer, else 408 and close; also how
            long an idle keep-alive connection stays open.
        max_connections: connections served at once (a thread each); more are answered 503.
    """
    if not networks and not agents:
        raise UsageError("create_server: pass networks=[...] and/or agents=[...] to serve")
    if token is not None and (not isinstance(token, str) or not token):
        raise UsageError("create_server: token must be a non-empty string or None")
    for name, value in (("max_body_bytes", max_body_bytes), ("max_connections", max_connections)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UsageError(f"create_server: {name} must be a positive int, got {value!r}")
    if isinstance(request_timeout, bool) or not isinstance(request_timeout, (int, float)) or not 0 < request_timeout < 1e9:
        raise UsageError(f"create_server: request_timeout must be a positive number of seconds, got {request_timeout!r}")
    return AgentServer(networks, agents, token, max_body_bytes, history, run_timeout, request_timeout, max_connections)

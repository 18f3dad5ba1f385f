"""The HTTP request handler of `agentkit_min.server` (routes, limits, JSON and SSE answers).

Split from server.py to keep both short; server.py's docstring documents the API. Each
request is handled in its own thread by `http.server`; runs go to the server's loop thread.
Server-Sent Events follow the WHATWG format: `id:`, `event:`, one `data:` line (our JSON
never contains a newline), then a blank line. Request framing follows RFC 9112 strictly
(sections 5 and 6.3), since a proxy in front must not find a different request boundary.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import queue
import re
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .messages import UserMessage
from .server import AgentServer, HTTPError, _HTTPServer, failure
from .state import State, create_state

log = logging.getLogger("agentkit_min.server")

_RUNS = re.compile(r"^/(networks|agents)/([^/]+)/runs/?$")
_THREAD = re.compile(r"^/threads/([^/]+)/?$")
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON's \ud800 escapes can make text that is not Unicode
_INPUT_FIELDS = {"id": "a string", "systemPrompt": "a string", "clientTimestamp": "an ISO 8601 string",
                 "state": "an object"}


def _run_request(body: dict[str, Any]) -> tuple[str | UserMessage, State[Any]]:
    """The run input and initial state of a run request body, or a 400."""
    value, data = body.get("input"), body.get("state", {})
    thread_id = body.get("thread_id", body.get("threadId"))
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        for key, kind in _INPUT_FIELDS.items():
            if value.get(key) is not None and not isinstance(value[key], dict if key == "state" else str):
                raise HTTPError(400, "invalid_request", f'"input.{key}" must be {kind}, got {value[key]!r:.60}')
        try:
            value = UserMessage.from_dict(value)
        except ValueError as exc:  # the one parsed field
            raise HTTPError(400, "invalid_request", f'"input.clientTimestamp" must be an ISO 8601 string: {exc}') from None
    elif not isinstance(value, str):
        raise HTTPError(400, "invalid_request",
                        '"input" must be a string or a UserMessage object with a string "content"')
    if not isinstance(data, dict):
        raise HTTPError(400, "invalid_request", '"state" must be an object (the initial state.data)')
    if thread_id is not None and not (isinstance(thread_id, str) and thread_id and not _SURROGATE.search(thread_id)):
        raise HTTPError(400, "invalid_request", '"thread_id" must be a non-empty string of valid Unicode')
    return value, create_state(data, thread_id=thread_id)


def _dumps(value: Any) -> bytes:
    # allow_nan=False: NaN and Infinity are not JSON (RFC 8259 section 6); strict clients reject them.
    return json.dumps(value, default=str, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 section 6)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every JSON answer has a Content-Length
    server_version = "agentkit-min"
    timeout = 60  # seconds one socket read or write may block (the request deadline is the server's)
    disable_nagle_algorithm = True  # headers and body are two writes; don't let Nagle delay the 2nd
    server: _HTTPServer

    @property
    def app(self) -> AgentServer:
        return self.server.app

    def setup(self) -> None:
        super().setup()
        self.timed_out = False
        self.app.connection(self, reading=True)

    def finish(self) -> None:
        self.app.connection(self, None)
        super().finish()

    def _dispatch(self) -> None:
        method = self.command
        self.app.track(+1)
        self._body_read = self._streaming = False
        self._length: int | None = None
        try:
            url = urlsplit(self.path)
            path, query = url.path, parse_qs(url.query)
            if self.timed_out:  # the deadline cut the headers short: do not act on a partial request
                raise self._late()
            self._length = self._content_length()
            if not self._length:
                self.app.connection(self, reading=False)  # the request is complete
            if self.app.closing:
                self.close_connection = True
                raise HTTPError(503, "shutting_down", "the server is shutting down")
            handler, allowed = self._route(path, method)
            if handler is None:
                raise HTTPError(405, "method_not_allowed", f"{method} is not allowed on {path}",
                                {"Allow": ", ".join(allowed)})
            if path != "/health":
                self.app.check_token(self.headers.get("Authorization"))
            handler(path, query)
        except HTTPError as err:
            if not self._body_read and self._length:
                self.close_connection = True  # unread body bytes would be parsed as the next request
            self._error(err.status, err.type, err.message, err.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as exc:
            self.close_connection = True
            answer = failure(exc, f"request {method} {self.path}")
            if not self._streaming:  # an event stream already has its 200 status line
                self._error(answer.status, answer.type, answer.message, answer.headers)
        finally:
            self.app.track(-1)
            self.app.connection(self, reading=True)  # the next request on this connection has its deadline

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _dispatch

    def _late(self) -> Exception:
        self.close_connection = True
        return HTTPError(408, "request_timeout", f"the request did not arrive within {self.app.request_timeout} s")

    def _route(self, path: str, method: str) -> tuple[Callable[[str, Any], None] | None, list[str]]:
        table: dict[str, Callable[[str, Any], None]]
        if path == "/health":
            table = {"GET": self._health}
        elif _RUNS.match(path):
            table = {"POST": self._run}
        elif path in ("/threads", "/threads/"):
            table = {"GET": self._threads}
        elif _THREAD.match(path):
            table = {"GET": self._thread, "DELETE": self._thread}
        else:
            raise HTTPError(404, "not_found", f"no route {path}")
        return table.get(method), sorted(table)

    # -- routes ----------------------------------------------------------------------------

    def _health(self, path: str, query: Any) -> None:
        self._json(200, {"status": "ok"})

    def _run(self, path: str, query: Any) -> None:
        match = _RUNS.match(path)
        assert match is not None
        target = self.app.target(match.group(1), unquote(match.group(2)))
        user_input, state = _run_request(self._body())
        if "text/event-stream" in self.headers.get("Accept", ""):
            events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
            self._stream(self.app.start_run(target, user_input, state, events.put), events)
        else:
            self._json(200, self.app.wait(self.app.start_run(target, user_input, state, None)))

    def _threads(self, path: str, query: Any) -> None:
        lister = self._history_hook("list_threads")
        user = query.get("user_id", [None])[0]
        self._json(200, {"threads": [vars(t) if hasattr(t, "__dict__") else t for t in lister(user_id=user)]})

    def _thread(self, path: str, query: Any) -> None:
        match = _THREAD.match(path)
        assert match is not None
        thread_id = unquote(match.group(1))
        if self.command == "DELETE":
            if not self._history_hook("delete_thread")(thread_id):
                raise HTTPError(404, "not_found", f"no thread {thread_id!r}")
            self._json(200, {"deleted": thread_id})
            return
        results = self._history_hook("load")(thread_id)
        self._json(200, {"thread_id": thread_id, "results": [r.to_dict() for r in results]})

    def _history_hook(self, name: str) -> Callable[..., Any]:
        hook = getattr(self.app.history, name, None)
        if not callable(hook):
            raise HTTPError(404, "not_found", f"thread routes need create_server(history=...) with {name}()")
        return hook  # type: ignore[no-any-return]

    # -- bodies and answers ----------------------------------------------------------------

    def _content_length(self) -> int | None:
        """The body length, or a 400 for framing a proxy could read differently (RFC 9112 6.3)."""
        values = [v.strip(" \t") for field in self.headers.get_all("Content-Length") or () for v in field.split(",")]
        problem = ("a header line that is not `name: value` (RFC 9112 5.1)" if self.headers.defects
                   else "a header folded over lines (RFC 9112 5.2)" if any("\n" in v for v in self.headers.values())
                   else "both Transfer-Encoding and Content-Length" if values and "Transfer-Encoding" in self.headers
                   else f"Content-Length {', '.join(values)!r}: it must be one run of digits"
                   if values and (len(set(values)) > 1 or not (values[0].isascii() and values[0].isdigit())) else "")
        if problem or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            if problem:
                raise HTTPError(400, "bad_framing", f"the request has {problem}")
            raise HTTPError(411, "length_required", "chunked request bodies are not supported; send a Content-Length")
        return int(values[0]) if values else None

    def _body(self) -> dict[str, Any]:
        """The request's JSON object, within the size limit."""
        size = self._length
        if size is None:
            self.close_connection = True
            raise HTTPError(411, "length_required", "send the JSON body with a Content-Length header")
        if size > self.app.max_body_bytes:
            self.close_connection = True  # the body is not read, so the connection cannot be reused
            raise HTTPError(413, "payload_too_large",
                            f"body of {size} bytes is over the limit of {self.app.max_body_bytes}")
        raw = self.rfile.read(size)
        self._body_read = True
        self.app.connection(self, reading=False)
        if self.timed_out or len(raw) < size:
            raise self._late()
        try:
            body = json.loads(raw, parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise HTTPError(400, "invalid_json", "the body is nested too deeply") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "invalid_request", "the body must be a JSON object")
        return body

    def _stream(self, fut: concurrent.futures.Future[Any],
                events: queue.SimpleQueue[dict[str, Any] | None]) -> None:
        """Relay the run's events (`publish` puts them on `events`, on the loop thread)."""
        fut.add_done_callback(lambda _: events.put(None))  # the end of the stream
        self.close_connection = self._streaming = True  # an event stream ends when the connection closes
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        deadline = None if self.app.run_timeout is None else time.monotonic() + self.app.run_timeout
        while True:
            try:
                chunk = events.get(timeout=None if deadline is None else max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break  # run_timeout: wait() below cancels the run and answers 504
            if chunk is None:
                break
            self._sse(str(chunk.get("id", "")), str(chunk.get("event", "message")), chunk)
        try:
            self._sse("", "result", self.app.wait(fut, now=True))
        except HTTPError as err:
            self._sse("", "error", {"error": {"type": err.type, "message": err.message}, "status": err.status})

    def _sse(self, event_id: str, event: str, data: Any) -> None:
        frame = (f"id: {event_id}\n" if event_id else "") + f"event: {event}\ndata: "
        self.wfile.write(frame.encode("utf-8") + _dumps(data) + b"\n\n")

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = _dumps(payload)  # a NaN made by a run raises here: a logged 500 (_dispatch)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": {"type": type_, "message": message}}, headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, 501...) as JSON too."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # an unparsable request line; answer in HTTP/1.1
            self.request_version = "HTTP/1.1"
        if self.timed_out:  # the request was cut short by the deadline, not malformed
            code, message = 408, str(self._late())
        self._error(code, "http_error", message or self.responses.get(code, ("error",))[0])

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

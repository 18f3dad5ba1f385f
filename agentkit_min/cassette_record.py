"""Record model requests into vcrpy JSON cassettes with vcrpy's record modes, and no vcrpy.

    with use_cassette("fixtures/cassettes/picnic.json", record_mode="once"):
        network.run_sync("Plan a picnic")   # 1st run: sent and recorded; later runs: replayed

Modes as vcrpy's: `none` replays only; `once` records all when the file is missing, else is
`none`; `new_episodes` replays what matches and records the rest; `all` records all, keeping the
loaded interactions no new request matched (vcrpy 6+). Matching is the player's. Replay-only runs
raise on unplayed interactions unless `allow_unplayed`; what was recorded is saved even when the
block raises. Before writing, `filter_headers` and `filtered_query` parameters are dropped and
their values (and `secrets`) become `<redacted>` everywhere, echoed bodies included.
`before_record_request` / `before_record_response` get vcrpy-shaped dicts and return them
(edited) or None to drop the interaction. A streamed body is handed on chunk by chunk and
recorded whole when it ends or is closed.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
import zlib
from contextlib import contextmanager
from http.client import responses
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import http
from .cassette import DEFAULT_FILTERED_QUERY, Cassette, Interaction, _interaction
from .errors import UsageError
from .trace import save_text

__all__ = ["RECORD_MODES", "FILTERED_HEADERS", "Recorder", "use_cassette"]

RECORD_MODES = ("none", "once", "new_episodes", "all")
FILTERED_HEADERS = tuple(sorted(http.SECRET_HEADERS | {"set-cookie"}))
Hook = Callable[[dict[str, Any]], "dict[str, Any] | None"]


class Recorder(Cassette):
    """A cassette that sends and records what it cannot replay, per `record_mode`."""

    def __init__(self, path: str | Path, record_mode: str = "once", *,
                 filter_headers: Iterable[str] = FILTERED_HEADERS,
                 filtered_query: Sequence[str] = DEFAULT_FILTERED_QUERY, secrets: Iterable[str] = (),
                 before_record_request: Hook | None = None, before_record_response: Hook | None = None,
                 send: Callable[..., Any] | None = None) -> None:
        if record_mode not in RECORD_MODES:
            raise UsageError(f"record_mode must be one of {', '.join(RECORD_MODES)}, got {record_mode!r}")
        self.existed = Path(path).exists()
        loaded = Cassette.load(path, filtered_query) if self.existed else Cassette([], str(path))
        super().__init__(loaded.interactions, str(path), tuple(filtered_query), is_yaml=loaded.is_yaml)
        self.record_mode, self.dirty, self.loaded = record_mode, False, len(self.interactions)
        self.replay_only = record_mode == "none" or (record_mode == "once" and self.existed)
        self.filter_headers, self.secrets = {h.lower() for h in filter_headers}, [s for s in secrets if s]
        self.hooks, self.send = (before_record_request, before_record_response), send or http.real_transport

    def transport(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                  timeout: float, stream: bool = False) -> tuple[int, Mapping[str, str], Any]:
        """Replay, or send through the real sender and record, as `record_mode` says."""
        text = body.decode("utf-8")
        if self.replay_only or (self.existed and self.record_mode != "all" and self.find(method, url, text)):
            return super().transport(method, url, headers, body, timeout)
        if self.is_yaml or Path(self.path).suffix in (".yaml", ".yml"):
            raise UsageError(f"cassette {self.path}: agentkit-min records JSON cassettes only; "
                             f"record into a .json file (vcrpy: serializer='json')")
        if not http.ALLOW_MODEL_REQUESTS and not http._is_loopback(url):
            raise UsageError(f"cassette {self.path} would record {method} {http.redact_url(url)}, but real "
                             f"model requests are disabled (agentkit_min.http.ALLOW_MODEL_REQUESTS)")
        self.requests.append((method, url, text))
        status, got, data = self.send(method, url, headers, body, timeout, stream=stream)
        record: Callable[[bytes], None] = lambda raw: self._record(method, url, headers, text, status, got, raw)
        if isinstance(data, (bytes, bytearray)):
            record(bytes(data))
            return status, got, data
        return status, got, _tee(data, record)

    def _record(self, method: str, url: str, headers: Mapping[str, str], text: str, status: int,
                got: Mapping[str, str], raw: bytes) -> None:
        parts = urllib.parse.urlsplit(url)
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query = urllib.parse.urlencode([(k, v) for k, v in pairs if k not in self.filtered_query])
        if any(k.lower() == "content-encoding" and v.lower() in ("gzip", "deflate") for k, v in got.items()):
            raw = zlib.decompress(raw, 47)  # stored decoded, as vcrpy's decode_compressed_response
            got = {k: v for k, v in got.items() if k.lower() not in ("content-encoding", "content-length")}
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"cassette {self.path}: the response to {method} {http.redact_url(url)} is "
                             f"not UTF-8 text; a JSON cassette cannot hold it") from None
        request: dict[str, Any] | None = {
            "method": method, "uri": urllib.parse.urlunsplit(parts._replace(query=query)), "body": text,
            "headers": {k: [v] for k, v in headers.items() if k.lower() not in self.filter_headers}}
        response: dict[str, Any] | None = {
            "status": {"code": status, "message": responses.get(status, "")},
            "headers": {k: [v] for k, v in got.items() if k.lower() not in self.filter_headers},
            "body": {"string": body}}
        request = self.hooks[0](request) if self.hooks[0] and request else request
        response = self.hooks[1](response) if self.hooks[1] and request and response else response
        if request is None or response is None:
            return
        values = [v for k, v in headers.items() if k.lower() in self.filter_headers]
        values += [v for k, v in pairs if k in self.filtered_query]
        secrets = {t for v in values for t in (v, *v.split()) if len(t) >= 8} | set(self.secrets)
        item = _redact({"request": request, "response": response}, sorted(secrets, key=len, reverse=True))
        interaction = _interaction(item, self.path)
        interaction.played, self.dirty = 1, True
        with self._lock:
            self.interactions.append(interaction)

    def save(self) -> None:
        """Write the cassette (vcrpy's JSON format) if anything was recorded."""
        if not self.dirty:
            return
        kept: list[Interaction] = self.interactions
        if self.record_mode == "all":  # re-recorded interactions replace the loaded ones they match
            new = kept[self.loaded:]
            kept = [i for i in kept[:self.loaded] if not any(
                self.matches(i, n.method, n.uri, n.body or "") for n in new)] + new
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"version": 1, "interactions": [i.record for i in kept]}, indent=4, ensure_ascii=False)
        save_text(path, data + "\n")  # never a half-written cassette
        self.dirty = False


def _tee(chunks: Iterable[bytes], done: Callable[[bytes], None]) -> Iterator[bytes]:
    """Hand `chunks` on as they come; give `done` the whole body when they end or are closed."""
    parts, finished = [], False
    try:
        for chunk in chunks:
            parts.append(chunk)
            yield chunk
        finished = True
    finally:
        if not finished:
            getattr(chunks, "close", lambda: None)()
        done(b"".join(parts))


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return functools.reduce(lambda text, secret: text.replace(secret, "<redacted>"), secrets, value)
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


@contextmanager
def use_cassette(path: str | Path, record_mode: str = "once", *, allow_unplayed: bool = False,
                 **options: Any) -> Iterator[Recorder]:
    """Replay model requests from the cassette at `path`, recording as `record_mode` says.

    `options` go to `Recorder` (filters, hooks, `send`: the real sender). UsageError when a
    request cannot be replayed in this mode, or a replay-only run leaves interactions unplayed.
    """
    cassette = Recorder(path, record_mode, **options)
    try:
        with http.use_transport(cassette.transport):
            yield cassette
    finally:
        cassette.save()
    if cassette.replay_only and not allow_unplayed:
        cassette.assert_all_played()

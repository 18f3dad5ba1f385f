"""Record model requests into vcrpy JSON cassettes, with vcrpy's record modes and no vcrpy.

    with use_cassette("fixtures/cassettes/picnic.json", record_mode="once"):
        network.run_sync("Plan a picnic")   # 1st run: sent and recorded; later runs: replayed

`record_mode` means what it means in vcrpy:
- `none`: replay only; a request the cassette has no answer for raises UsageError.
- `once` (the default): with no cassette file, send and record every request; with one,
  behave as `none`.
- `new_episodes`: replay the requests the cassette has, send and record the others.
- `all`: send and record every request, replay nothing; the file keeps the recorded
  interactions plus the loaded ones that no new request matched (vcrpy 6+).
Matching is the player's (`agentkit_min.cassette`). In the replay-only cases (`none`, `once`
with a file) leaving the block with interactions unplayed raises, as `play_cassette` does,
unless `allow_unplayed=True` (vcrpy only reports it). What was recorded is saved even when the
block raises (vcrpy's `record_on_exception`). The file is vcrpy's JSON serializer format, so
vcrpy replays it; a YAML cassette can be replayed but not recorded into.

Scrubbing, before anything is written: the `filter_headers` (credentials and cookies) are
dropped from the request and the response, the `filtered_query` parameters from the URI, and
every occurrence of their values (and of `secrets`) anywhere in the interaction, response body
and headers included (a proxy or an error page may echo the key), becomes `<redacted>`.
User filters: `before_record_request(request)` and `before_record_response(response)` get the
vcrpy-shaped dicts (`{"method", "uri", "body", "headers"}`, `{"status", "headers", "body":
{"string"}}`) and return them changed, or None to leave the interaction out of the file.
A streamed response is handed on chunk by chunk and recorded as its raw body when it ends.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import zlib
from contextlib import contextmanager
from http.client import responses
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import http
from .cassette import DEFAULT_FILTERED_QUERY, Cassette, Interaction, _interaction
from .errors import UsageError

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
        existed = Path(path).exists()
        loaded = Cassette.load(path, filtered_query) if existed else Cassette([], str(path))
        super().__init__(loaded.interactions, str(path), tuple(filtered_query), is_yaml=loaded.is_yaml)
        self.record_mode, self.existed, self.dirty = record_mode, existed, False
        self.replay_only = record_mode == "none" or (record_mode == "once" and existed)
        self.filter_headers = {h.lower() for h in filter_headers}
        self.secrets = [s for s in secrets if s]
        self.hooks = (before_record_request, before_record_response)
        self.send = send or http.real_transport
        self.loaded = len(self.interactions)

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

        def record(raw: bytes) -> None:
            self._record(method, url, headers, text, status, got, raw)

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
        before_request, before_response = self.hooks
        request = before_request(request) if before_request and request else request
        response = before_response(response) if before_response and response and request else response
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
        temporary = path.with_name(path.name + ".tmp")
        data = {"version": 1, "interactions": [i.record for i in kept]}
        temporary.write_text(json.dumps(data, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, path)  # never a half-written cassette
        self.dirty = False


def _tee(chunks: Iterable[bytes], done: Callable[[bytes], None]) -> Iterator[bytes]:
    """Hand `chunks` on as they come; give `done` the whole body when they end or are closed."""
    parts: list[bytes] = []
    finished = False
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
        for secret in secrets:
            value = value.replace(secret, "<redacted>")
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


@contextmanager
def use_cassette(path: str | Path, record_mode: str = "once", *, allow_unplayed: bool = False,
                 **options: Any) -> Iterator[Recorder]:
    """Replay model requests from the cassette at `path`, recording as `record_mode` says.

    `options` are `Recorder`'s: `filter_headers`, `filtered_query`, `secrets`,
    `before_record_request`, `before_record_response` and `send` (the real sender).

    Raises:
        UsageError: a request cannot be replayed in this mode (it shows the nearest recorded
            one), or in a replay-only mode interactions were left unplayed.
    """
    cassette = Recorder(path, record_mode, **options)
    try:
        with http.use_transport(cassette.transport):
            yield cassette
    finally:
        cassette.save()
    if cassette.replay_only and not allow_unplayed:
        cassette.assert_all_played()

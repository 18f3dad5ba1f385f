"""Replay vcrpy cassettes (JSON, or the YAML vcrpy writes) with the standard library only.

A cassette is vcrpy's format (`"version": 1`):

    {"version": 1, "interactions": [
        {"request":  {"method": "POST", "uri": "https://...", "body": "<text>",
                      "headers": {"Content-Type": ["application/json"]}},
         "response": {"status": {"code": 200, "message": "OK"},
                      "headers": {"Content-Type": ["application/json"]},
                      "body": {"string": "<text>"}}}]}

`play_cassette(path)` installs a transport (`agentkit_min.http.use_transport`) that answers each
model request with the first unplayed interaction matching it, as vcrpy's `record_mode="none"`:
method, URI (query parameters recording filtered out, such as Gemini's `key`, are ignored) and
body (equal as JSON when both are JSON, else as text). No match raises UsageError showing the
request and the nearest recorded one; so does leaving the block with interactions unplayed
(unless `allow_unplayed=True`). Each interaction plays once; `!!binary` and gzip/deflate bodies
are decoded; a streaming request gets the recorded body in one chunk. Recording:
`cassette_record.use_cassette`.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ._yaml import loads as yaml_loads
from .errors import UsageError
from .http import RawResponse, redact_url, use_transport

__all__ = ["Cassette", "Interaction", "play_cassette"]

DEFAULT_FILTERED_QUERY = ("key", "api_key", "api-key")


@dataclass
class Interaction:
    """One recorded request and the response to play for it."""

    method: str
    uri: str
    body: str | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    played: int = 0
    record: dict[str, Any] = field(default_factory=dict, repr=False)
    """The interaction as stored in the file (what a recorder writes back)."""


@dataclass
class Cassette:
    """The interactions of one cassette file, and which of them have been played."""

    interactions: list[Interaction]
    path: str = "<memory>"
    filtered_query: Sequence[str] = DEFAULT_FILTERED_QUERY
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """Every request seen while playing, as (method, uri, body)."""
    is_yaml: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: str | Path, filtered_query: Sequence[str] = DEFAULT_FILTERED_QUERY) -> Cassette:
        """Read a vcrpy cassette (JSON, or YAML as vcrpy writes it); UsageError if it is not one."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:  # a binary or mis-encoded file: cassettes are UTF-8 text
            raise UsageError(f"{path} is not a cassette: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        is_yaml = not text.lstrip().startswith("{")  # JSON is YAML too, but json.loads is exact
        try:
            data = yaml_loads(text, str(path)) if is_yaml else json.loads(text)
        except ValueError as exc:
            raise UsageError(f"{path} is not a JSON cassette (vcrpy serializer='json'): {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
            raise UsageError(f"{path} is not a vcrpy cassette: no 'interactions' list")
        return cls([_interaction(item, str(path)) for item in data["interactions"]], str(path),
                   tuple(filtered_query), is_yaml=is_yaml)

    @property
    def all_played(self) -> bool:
        """True when every interaction has been played at least once."""
        return all(i.played for i in self.interactions)

    def unplayed(self) -> list[Interaction]:
        """The interactions not played yet."""
        return [i for i in self.interactions if not i.played]

    def assert_all_played(self) -> None:
        """Raise UsageError naming the interactions that were never requested."""
        left = self.unplayed()
        if left:
            listed = ", ".join(f"#{self.interactions.index(i)} {i.method} {redact_url(i.uri)}" for i in left)
            raise UsageError(f"cassette {self.path}: {len(left)} interaction(s) never played: {listed}")

    def matches(self, interaction: Interaction, method: str, url: str, body: str) -> bool:
        """True when `interaction` was recorded for this request (method, URI, body)."""
        return (interaction.method.upper() == method.upper() and _same_body(interaction.body, body)
                and self._normal_uri(interaction.uri) == self._normal_uri(url))

    def find(self, method: str, url: str, body: str) -> Interaction | None:
        """The first unplayed interaction recorded for this request, or None."""
        return next((i for i in self.interactions if not i.played and self.matches(i, method, url, body)), None)

    def transport(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                  timeout: float, stream: bool = False) -> RawResponse:
        """An `agentkit_min.http.Transport` answering from this cassette."""
        text = body.decode("utf-8")
        with self._lock:  # concurrent model calls run on worker threads
            self.requests.append((method, url, text))
            interaction = self.find(method, url, text)
            if interaction is None:
                raise UsageError(self._no_match(method, url, text))
            interaction.played += 1
        return interaction.status, dict(interaction.response_headers), interaction.response_body

    def _normal_uri(self, uri: str) -> tuple[str, str, int | None, str, list[tuple[str, str]]]:
        parts = urllib.parse.urlsplit(uri)
        query = sorted((k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                       if k not in self.filtered_query)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return parts.scheme, (parts.hostname or ""), port, parts.path or "/", query

    def _no_match(self, method: str, url: str, text: str) -> str:
        left, uri = self.unplayed(), self._normal_uri(url)
        where = (f"cassette {self.path}: no unplayed interaction matches {method} {redact_url(url)} "
                 f"({len(left)} unplayed)")
        same = [i for i in left if self._normal_uri(i.uri) == uri]
        near = same or [i for i in self.interactions if self._normal_uri(i.uri) == uri] or left
        if not near:
            return f"{where}; the cassette has no interaction left to compare with"
        why = "the body differs from" if same else "already played" if near[0].played else "nearest is"
        return (f"{where}; {why} interaction #{self.interactions.index(near[0])} "
                f"{near[0].method} {redact_url(near[0].uri)}:\n  sent:     {text[:500]}\n"
                f"  recorded: {(near[0].body or '')[:500]}")


def _interaction(item: Any, path: str) -> Interaction:
    try:
        request, response = item["request"], item["response"]
        status = response["status"]
        code = status["code"] if isinstance(status, dict) else int(status)
        body = response.get("body", {})
        raw = body.get("string") if isinstance(body, dict) else body
        headers = {str(k).lower(): (", ".join(map(str, v)) if isinstance(v, list) else str(v))
                   for k, v in (response.get("headers") or {}).items()}
        data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
        if headers.get("content-encoding", "").lower() in ("gzip", "deflate"):
            data = zlib.decompress(data, 47)  # 47 = 32 + 15: a gzip or zlib header, detected
            headers = {k: v for k, v in headers.items() if k not in ("content-encoding", "content-length")}
        sent = request.get("body")
        return Interaction(
            method=str(request["method"]), uri=str(request["uri"]), status=int(code),
            body=sent.decode("utf-8", "replace") if isinstance(sent, bytes) else sent,
            response_headers=headers, response_body=data, record=item)
    except (KeyError, TypeError, ValueError, zlib.error) as exc:
        raise UsageError(f"{path}: malformed interaction ({exc!r}): {str(item)[:200]}") from exc


def _same_body(recorded: str | None, sent: str) -> bool:
    if (recorded or "") == sent:
        return True
    try:
        return bool(json.loads(recorded or "null") == json.loads(sent or "null"))
    except ValueError:
        return False


@contextmanager
def play_cassette(path: str | Path, *, allow_unplayed: bool = False,
                  filtered_query: Sequence[str] = DEFAULT_FILTERED_QUERY) -> Iterator[Cassette]:
    """Answer every model request in this block from the cassette at `path`.

    Example:
        with play_cassette("fixtures/openai/text.json"):
            network.run_sync("hi")   # no network access, no API key use

    Raises:
        UsageError: a request matches no unplayed interaction, or (on leaving the block
            normally) some interactions were never played and `allow_unplayed` is False.
    """
    cassette = Cassette.load(path, filtered_query)
    with use_transport(cassette.transport):
        yield cassette
    if not allow_unplayed:
        cassette.assert_all_played()

"""Replay vcrpy JSON cassettes with the standard library only (no vcrpy needed).

A cassette is vcrpy's JSON serializer format (vcrpy 1.x and later, `"version": 1`):

    {"version": 1, "interactions": [
        {"request":  {"method": "POST", "uri": "https://...", "body": "<text>",
                      "headers": {"Content-Type": ["application/json"]}},
         "response": {"status": {"code": 200, "message": "OK"},
                      "headers": {"Content-Type": ["application/json"]},
                      "body": {"string": "<text>"}}}]}

`play_cassette(path)` installs a transport (`agentkit_min.http.use_transport`) that answers
each model request with the first unplayed interaction that matches it, the way vcrpy's
`record_mode="none"` does: method, URI (scheme, host, port, path and query; query
parameters that recording filtered out, such as Gemini's `key`, are ignored) and body (equal
as JSON when both sides are JSON, else as text). A request with no match raises UsageError
with the closest candidate; leaving the block with interactions unplayed raises too (pass
`allow_unplayed=True` to allow it). Each interaction plays once.

What it deliberately doesn't do: record (use vcrpy, see `make record`), YAML cassettes,
binary or compressed bodies, or intercepting anything but agentkit-min's own model requests.
"""

from __future__ import annotations

import json
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .errors import UsageError
from .http import RawResponse, use_transport

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


@dataclass
class Cassette:
    """The interactions of one cassette file, and which of them have been played."""

    interactions: list[Interaction]
    path: str = "<memory>"
    filtered_query: Sequence[str] = DEFAULT_FILTERED_QUERY
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """Every request seen while playing, as (method, uri, body)."""

    @classmethod
    def load(cls, path: str | Path, filtered_query: Sequence[str] = DEFAULT_FILTERED_QUERY) -> Cassette:
        """Read a vcrpy JSON cassette; UsageError if the file is not one."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"{path} is not a JSON cassette (vcrpy serializer='json'): {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
            raise UsageError(f"{path} is not a vcrpy cassette: no 'interactions' list")
        return cls([_interaction(item, str(path)) for item in data["interactions"]], str(path),
                   tuple(filtered_query))

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
            listed = ", ".join(f"#{self.interactions.index(i)} {i.method} {i.uri}" for i in left)
            raise UsageError(f"cassette {self.path}: {len(left)} interaction(s) never played: {listed}")

    def transport(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                  timeout: float) -> RawResponse:
        """An `agentkit_min.http.Transport` answering from this cassette."""
        text = body.decode("utf-8")
        self.requests.append((method, url, text))
        uri = self._normal_uri(url)
        for interaction in self.interactions:
            if (not interaction.played and interaction.method.upper() == method.upper()
                    and self._normal_uri(interaction.uri) == uri and _same_body(interaction.body, text)):
                interaction.played += 1
                return interaction.status, dict(interaction.response_headers), interaction.response_body
        raise UsageError(self._no_match(method, url, text))

    def _normal_uri(self, uri: str) -> tuple[str, str, int | None, str, list[tuple[str, str]]]:
        parts = urllib.parse.urlsplit(uri)
        query = sorted((k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                       if k not in self.filtered_query)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return parts.scheme, (parts.hostname or ""), port, parts.path or "/", query

    def _no_match(self, method: str, url: str, text: str) -> str:
        unplayed = self.unplayed()
        where = f"cassette {self.path}: no unplayed interaction matches {method} {url}"
        same_uri = [i for i in unplayed if self._normal_uri(i.uri) == self._normal_uri(url)]
        if same_uri:
            return (f"{where}; the body differs from interaction "
                    f"#{self.interactions.index(same_uri[0])}:\n  sent:     {text[:500]}\n"
                    f"  recorded: {(same_uri[0].body or '')[:500]}")
        return f"{where} ({len(unplayed)} unplayed: {', '.join(i.uri for i in unplayed) or 'none'})"


def _interaction(item: Any, path: str) -> Interaction:
    try:
        request, response = item["request"], item["response"]
        status = response["status"]
        code = status["code"] if isinstance(status, dict) else int(status)
        body = response.get("body", {})
        raw = body.get("string") if isinstance(body, dict) else body
        headers = {str(k).lower(): (", ".join(map(str, v)) if isinstance(v, list) else str(v))
                   for k, v in (response.get("headers") or {}).items()}
        return Interaction(
            method=str(request["method"]), uri=str(request["uri"]), body=request.get("body"),
            status=int(code), response_headers=headers,
            response_body=raw.encode("utf-8") if isinstance(raw, str) else (raw or b""),
        )
    except (KeyError, TypeError, ValueError) as exc:
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

"""Sans-IO decoder for Server-Sent Events (`text/event-stream`), the package's only one.

The parsing half of the WHATWG HTML Living Standard, section 9.2 ("Parsing an event stream",
"Interpreting an event stream"): UTF-8 decoded incrementally with U+FFFD for bad bytes, one
leading BOM dropped; lines end with CRLF, LF or CR only (a CR ending one chunk and an LF starting
the next are one line end, so events never depend on chunking); `:` comments; one leading space
dropped from values; `data` lines joined with LF; an empty line dispatches; `id` persists across
events (ignored if it holds NUL); `retry` only when all ASCII digits. An incomplete event at end
of stream is discarded, as the standard says. Reconnection and MCP-specific filtering (empty
"priming" events, 2025-11-25) are the transports' business.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from ..errors import RemoteProtocolError

__all__ = ["ServerSentEvent", "SSEDecoder"]


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event."""

    event: str = "message"
    """The event type; "message" when the stream gave none."""
    data: str = ""
    """The data lines joined with LF (no trailing LF)."""
    id: str = ""
    """The last event ID in force when this event was dispatched (persists across events)."""
    retry: int | None = None
    """The reconnection time in ms in force when this event was dispatched, if the stream set one."""


class SSEDecoder:
    """Turns chunks of a `text/event-stream` body into `ServerSentEvent`s (`feed`, then `close`).

    Example:
        >>> decoder = SSEDecoder()
        >>> decoder.feed(b"event: endpoint\\r\\ndata: /messages/?id=1\\r\\n\\r\\n")
        [ServerSentEvent(event='endpoint', data='/messages/?id=1', id='', retry=None)]
    """

    def __init__(self, max_line_length: int = 16 * 1024 * 1024, max_event_size: int = 16 * 1024 * 1024) -> None:
        """Create a decoder.

        Args:
            max_line_length: longest line (in characters) accepted before the stream is
                rejected with RemoteProtocolError, so a peer cannot grow our buffer without end.
            max_event_size: most characters of `data` one event may gather (its lines plus the
                LFs joining them) before RemoteProtocolError: many lines without a blank one.
        """
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_line, self._max_event = max_line_length, max_event_size
        self._pending: list[str] = []  # text of the current, unfinished line
        self._pending_len = 0
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._at_start = True  # no text decoded yet: a BOM may still come
        self._closed = False
        self._event_type = ""
        self._data: list[str] = []
        self._data_len = 0  # characters of data in this event, LFs included: 0 means no data line
        self._id_buffer = ""
        self.last_event_id = ""
        """The last event ID string (what to send as `Last-Event-ID` when reconnecting)."""
        self.retry: int | None = None
        """The reconnection time in milliseconds, if the stream set one."""

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode a chunk and return the events it completed.

        Raises:
            RemoteProtocolError: a line longer than `max_line_length`, or an event's data over
                `max_event_size`. The decoder is then unusable (the stream is broken).
        """
        if self._closed:
            raise RemoteProtocolError("SSEDecoder.feed called after close()")
        return self._feed_text(self._utf8.decode(data, final=False))

    def close(self) -> list[ServerSentEvent]:
        """End of stream: flush the UTF-8 decoder and return any events that completes.

        A trailing partial event (no blank line after it) is discarded, per the standard.
        """
        if self._closed:
            return []
        events = self._feed_text(self._utf8.decode(b"", final=True))
        self._closed = True
        # A final line without its line end is incomplete: it never reaches the event.
        self._pending, self._pending_len = [], 0
        self._reset_event()
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" not in text and "\n" not in text:
            # No line end: park the text (joined once later, so long lines stay linear).
            self._pending.append(text)
            self._pending_len += len(text)
            self._check_length()
            return []
        if self._pending:
            buffer = "".join(self._pending) + text
            self._pending, self._pending_len = [], 0
        else:
            buffer = text
        events: list[ServerSentEvent] = []
        start = 0
        length = len(buffer)
        while start < length:
            # Find the nearest CR or LF; str.find twice beats a regex for typical short lines.
            cr = buffer.find("\r", start)
            lf = buffer.find("\n", start)
            if cr < 0 and lf < 0:
                break
            if cr < 0 or (0 <= lf < cr):
                end, next_start = lf, lf + 1
            else:
                end, next_start = cr, cr + 1
                if next_start < length:
                    if buffer[next_start] == "\n":
                        next_start += 1
                else:
                    self._skip_lf = True  # CR ends the chunk; an LF may follow in the next one
            event = self._process_line(buffer[start:end])
            if event is not None:
                events.append(event)
            start = next_start
        rest = buffer[start:]
        if rest:
            self._pending, self._pending_len = [rest], len(rest)
            self._check_length()
        return events

    def _check_length(self) -> None:
        if self._pending_len > self._max_line:
            raise RemoteProtocolError(f"SSE line longer than {self._max_line} characters; "
                                      "refusing to buffer more")

    def _process_line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None  # comment (keep-alives such as ": ping - ..." land here)
        colon = line.find(":")
        if colon < 0:
            name, value = line, ""
        else:
            name, value = line[:colon], line[colon + 1:]
            if value[:1] == " ":
                value = value[1:]
        if name == "data":
            self._data_len += len(value) + 1
            if self._data_len > self._max_event:
                raise RemoteProtocolError(f"SSE event data over {self._max_event} characters; refusing to buffer more")
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\x00" not in value:
                self._id_buffer = value
        elif name == "retry":
            if value and value.isascii() and value.isdigit():
                self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id_buffer  # updated on every blank line, data or not
        if not self._data_len:
            # The standard: an empty data buffer resets the event type and dispatches nothing.
            self._event_type = ""
            return None
        event = ServerSentEvent(event=self._event_type or "message", data="\n".join(self._data),
                                id=self.last_event_id, retry=self.retry)
        self._reset_event()
        return event

    def _reset_event(self) -> None:
        self._event_type = ""
        self._data, self._data_len = [], 0

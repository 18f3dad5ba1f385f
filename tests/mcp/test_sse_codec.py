"""The sans-IO SSE decoder: WHATWG examples, edge cases, chunking invariance, garbage.

Streams here are constructed by hand (from the WHATWG examples and the MCP wire notes), not
recorded. An independent, non-incremental reference parser in this file is the oracle for the
property tests.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min.errors import ProtocolError, RemoteProtocolError
from agentkit_min.mcp.sse import ServerSentEvent, SSEDecoder

E = ServerSentEvent


def decode(chunks: list[bytes], **options: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**options)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def whole(data: bytes) -> list[ServerSentEvent]:
    return decode([data])


def reference(data: bytes) -> list[ServerSentEvent]:
    """A deliberately simple whole-stream reading of the WHATWG algorithm."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    lines.pop()  # the text after the last line end is not a complete line
    events, event_type, data_lines, id_buffer, last_id, retry = [], "", None, "", "", None
    for line in lines:
        if line == "":
            last_id = id_buffer
            if data_lines is not None:
                events.append(E(event_type or "message", "\n".join(data_lines), last_id, retry))
            event_type, data_lines = "", None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data_lines = (data_lines or []) + [value]
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            id_buffer = value
        elif name == "retry" and re.fullmatch(r"[0-9]+", value):
            retry = int(value)
    return events


WHATWG_STOCK = b"data: YHOO\ndata: +2\ndata: 10\n\n"
WHATWG_IDS = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
WHATWG_EMPTY = b"data\n\ndata\ndata\n\ndata:"
PYTHON_ENDPOINT = b"event: endpoint\r\ndata: /messages/?session_id=abc\r\n\r\n: ping - 2026-11-21\r\n\r\n"
TS_PRIMING = b"id: 9f0c\ndata: \n\nevent: message\nid: 9f0d\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"
CORPUS = [WHATWG_STOCK, WHATWG_IDS, WHATWG_EMPTY, PYTHON_ENDPOINT, TS_PRIMING,
          "\ufeffdata: caf\u00e9 \u2028 \u2029 \u0085 \x0b \x0c \x1c end\r\rretry: 50\rid: x\x00y\r\r".encode()]


def test_whatwg_examples() -> None:
    assert whole(WHATWG_STOCK) == [E("message", "YHOO\n+2\n10")]
    assert whole(WHATWG_IDS) == [E(data="first event", id="1"), E(data="second event"), E(data=" third event")]
    # `data` with no colon is an empty value; the final unterminated line is discarded.
    assert whole(WHATWG_EMPTY) == [E(data=""), E(data="\n")]
    assert whole(b"data:test\n\ndata: test\n\n") == [E(data="test"), E(data="test")]


def test_mcp_shapes() -> None:
    assert whole(PYTHON_ENDPOINT) == [E("endpoint", "/messages/?session_id=abc")]
    priming, reply = whole(TS_PRIMING)
    assert priming == E("message", "", "9f0c")  # dispatched; skipping empty data is the transport's job
    assert reply.id == "9f0d" and reply.data.startswith("{")


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    stream = eol.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert whole(stream) == [E("e", "a\nb"), E("message", "c")]


def test_cr_at_chunk_end_then_lf_is_one_line_end() -> None:
    assert decode([b"data: a\r", b"\n\r", b"\ndata: b\r", b"\n", b"\r\n"]) == [E(data="a"), E(data="b")]
    # A CR then a later CR is two line ends: a blank line, so the event is dispatched.
    assert decode([b"data: a\r", b"\r"]) == [E(data="a")]


def test_unicode_separators_are_not_line_breaks() -> None:
    text = "data: a\u2028b\u2029c\u0085d\x0be\x0cf\x1cg\x1dh\x1ei\n\n"
    assert whole(text.encode()) == [E(data=text[6:-2])]


def test_bom_only_at_stream_start() -> None:
    assert decode([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [E(data="x")]
    # A second BOM is not stripped: "\ufeffdata" is an unknown field, ignored.
    assert whole("\ufeff\ufeffdata: x\n\ndata: y\n\n".encode()) == [E(data="y")]


def test_utf8_split_across_chunks_and_invalid_bytes() -> None:
    encoded = "data: \u00e9\u20ac\U0001f600\n\n".encode()
    assert decode([encoded[i:i + 1] for i in range(len(encoded))]) == [E(data="\u00e9\u20ac\U0001f600")]
    assert whole(b"data: \xff\xfe\n\n") == [E(data="\ufffd\ufffd")]


def test_id_persists_resets_and_ignores_nul() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n"
    assert [(e.data, e.id) for e in whole(stream)] == [("a", "1"), ("b", "1"), ("c", "1"), ("d", "")]
    decoder = SSEDecoder()
    decoder.feed(b"id: 42\n")
    assert decoder.last_event_id == ""  # the last event ID string changes only at a blank line
    decoder.feed(b"\n")
    assert decoder.last_event_id == "42"


@pytest.mark.parametrize("value,expected", [(b"1500", 1500), (b"0", 0), (b"15a", None), (b"-1", None),
                                            (b"", None), (b" 10", 10), ("\u0661\u0662".encode(), None)])
def test_retry_digits_only(value: bytes, expected: int | None) -> None:
    decoder = SSEDecoder()
    (event,) = decoder.feed(b"retry:" + value + b"\ndata: x\n\n")
    assert event.retry == expected == decoder.retry


def test_event_type_resets_and_fields_without_data_dispatch_nothing() -> None:
    assert whole(b"event: a\n\ndata: x\n\nevent: b\nunknown: 1\ndata: y\n\n") == [E(data="x"), E("b", "y")]


def test_line_limit_and_close() -> None:
    with pytest.raises(RemoteProtocolError, match="longer than 8"):
        SSEDecoder(max_line_length=8).feed(b"data: 0123456789")
    decoder = SSEDecoder()
    assert decoder.feed(b"data: partial\n") == []
    assert decoder.close() == [] and decoder.close() == []
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"\n")


@pytest.mark.parametrize("stream", CORPUS)
def test_chunking_does_not_change_events(stream: bytes) -> None:
    expected = whole(stream)
    assert expected == reference(stream)
    assert decode([stream[i:i + 1] for i in range(len(stream))]) == expected
    for offset in range(len(stream) + 1):
        assert decode([stream[:offset], stream[offset:]]) == expected, offset


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


LINES = st.sampled_from(["data: x", "data", "data:  y", "data:\u00e9\u2028", "event: e", "event", "id: 7",
                         "id: a\0", "id", "retry: 30", "retry: x", ": comment", "", "", "bogus: 1", "\ufeffdata: b"])
STREAMS = st.builds(
    lambda lines, eols, bom: (b"\xef\xbb\xbf" if bom else b"") + b"".join(
        line.encode() + eols[i % len(eols)] for i, line in enumerate(lines)),
    st.lists(LINES, max_size=30), st.lists(st.sampled_from([b"\n", b"\r", b"\r\n"]), min_size=1), st.booleans())


@settings(max_examples=300, deadline=None)
@given(STREAMS, st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_random_streams_match_reference_under_random_chunking(stream: bytes, cuts: list[int]) -> None:
    assert decode(chunked(stream, cuts)) == reference(stream)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=8))
def test_garbage_yields_events_or_protocol_error(data: bytes, cuts: list[int]) -> None:
    for max_line in (4, 1 << 20):
        try:
            events = decode(chunked(data, cuts), max_line_length=max_line)
        except ProtocolError:
            assert max_line == 4  # only the tiny line limit can be exceeded by 300 bytes
            continue
        assert all(isinstance(e, ServerSentEvent) for e in events)
        if max_line > 4:
            assert events == reference(data)

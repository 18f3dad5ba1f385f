"""The sans-IO JSON-RPC session: validation, id matching, server requests, NDJSON framing.

Messages here are constructed by hand in the shapes the MCP wire notes describe (ids from 0,
string ids, `result` before `jsonrpc` as the TypeScript SDK sends it), not recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit_min.errors import ProtocolError, RemoteProtocolError
from agentkit_min.mcp.jsonrpc import (ErrorResponse, Event, JSONRPCSession, NDJSONDecoder, Notification, Request,
                                      Response, encode_message, parse_message)


def session_with_pending(count: int = 3) -> JSONRPCSession:
    session = JSONRPCSession()
    for _ in range(count):
        session.request("tools/call", {"name": "x"})
    return session


STREAM = b"".join([
    b'{"result":{"tools":[]},"jsonrpc":"2.0","id":1}\n',  # key order as the TypeScript SDK sends it
    b'{"jsonrpc":"2.0","id":0,"method":"ping"}\r\n',  # a server request with id 0
    b"\n",
    b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"caf\xc3\xa9 \xe2\x80\xa8"}}\n',
    b'{"jsonrpc":"2.0","id":"str-id-8","method":"roots/list"}\n',
    b'{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"bad","data":{"k":1}}}\n',
    b'{"jsonrpc":"2.0","id":99,"result":{}}\n',  # nobody waits for 99: dropped
    b'{"jsonrpc":"2.0","id":3,"result":null}\n',
])
EXPECTED: list[Event] = [
    Response(1, {"tools": []}),
    Request(0, "ping"),
    Notification("notifications/message", {"level": "info", "data": "caf\u00e9 \u2028"}),
    Request("str-id-8", "roots/list"),
    ErrorResponse(2, -32602, "bad", {"k": 1}),
    Response(3, None),
]


def feed_all(chunks: list[bytes]) -> list[Event]:
    session = session_with_pending()
    return [event for chunk in chunks for event in session.feed(chunk)]


def test_ids_start_at_one_and_requests_are_well_formed() -> None:
    session = JSONRPCSession()
    first = session.request("initialize", {"protocolVersion": "2025-06-18"})
    second = session.request("ping")
    assert first == (1, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}})
    assert second == (2, {"jsonrpc": "2.0", "id": 2, "method": "ping"})
    assert session.pending == {1, 2}
    assert session.notification("notifications/initialized") == {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert parse_message(encode_message(first[1])) == first[1]


def test_stream_events_and_matching() -> None:
    session = session_with_pending()
    assert session.feed(STREAM) == EXPECTED
    assert session.pending == frozenset()


def test_forgotten_request_ignores_late_answer() -> None:
    session = JSONRPCSession(first_id=0)
    request_id, _ = session.request("tools/call")
    assert request_id == 0
    session.forget(0)
    assert session.receive({"jsonrpc": "2.0", "id": 0, "result": {}}) is None
    # An error with a null id (the peer could not read our id) is still reported.
    assert session.receive({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}) == \
        ErrorResponse(None, -32700, "Parse error")


@pytest.mark.parametrize("method,reply", [
    ("ping", {"result": {}}),
    ("roots/list", {"result": {"roots": []}}),
    ("sampling/createMessage", {"error": {"code": -32601, "message": "Method not found: sampling/createMessage"}}),
    ("elicitation/create", {"error": {"code": -32601, "message": "Method not found: elicitation/create"}}),
    ("something/else", {"error": {"code": -32601, "message": "Method not found: something/else"}}),
])
@pytest.mark.parametrize("request_id", [0, 7, "str-id-8", ""])
def test_answers_to_server_requests_echo_the_id(method: str, reply: dict[str, Any], request_id: int | str) -> None:
    answer = JSONRPCSession().answer(Request(request_id, method))
    assert answer == {"jsonrpc": "2.0", "id": request_id, **reply}
    assert type(answer["id"]) is type(request_id)


@pytest.mark.parametrize("data", [
    b"", b"not json", b"[]", b'[{"jsonrpc":"2.0","id":1,"result":{}}]', b"42", b'"s"', b"null",
    b'{"id":1,"result":{}}', b'{"jsonrpc":"1.0","id":1,"result":{}}', b'{"jsonrpc":2.0,"id":1,"result":{}}',
    b'{"jsonrpc":"2.0","id":1}', b'{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}',
    b'{"jsonrpc":"2.0","result":{}}', b'{"jsonrpc":"2.0","id":null,"result":{}}',
    b'{"jsonrpc":"2.0","id":true,"result":{}}', b'{"jsonrpc":"2.0","id":1.5,"result":{}}',
    b'{"jsonrpc":"2.0","id":[1],"method":"ping"}', b'{"jsonrpc":"2.0","method":7}',
    b'{"jsonrpc":"2.0","method":"m","result":{}}', b'{"jsonrpc":"2.0","id":1,"error":"boom"}',
    b'{"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"x"}}',
    b'{"jsonrpc":"2.0","id":1,"error":{"code":true,"message":"x"}}',
    b'{"jsonrpc":"2.0","id":1,"error":{"code":1}}', b'{"jsonrpc":"2.0","id":1,"result":NaN}',
    b'{"jsonrpc":"2.0","id":1,"result":Infinity}', b'{"jsonrpc":"2.0","id":1,"result":"\xff"}',
    b"[" * 100_000 + b"]" * 100_000,
])
def test_invalid_messages_are_remote_protocol_errors(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_message(data)


def test_receive_validates_dicts_too() -> None:
    with pytest.raises(RemoteProtocolError):
        JSONRPCSession().receive({"jsonrpc": "2.0", "id": 1})
    with pytest.raises(RemoteProtocolError):
        JSONRPCSession().receive([1])  # type: ignore[arg-type]


def test_a_bad_line_raises_and_later_lines_survive() -> None:
    session = session_with_pending()
    with pytest.raises(RemoteProtocolError):
        session.feed(b'{"jsonrpc":"2.0","id":1,"result":1}\nGARBAGE\n{"jsonrpc":"2.0","id":2,"result":2}\n')
    assert session.feed(b"") == [Response(2, 2)]  # line 1 was consumed before the error was raised
    assert session.pending == {3}


def test_ndjson_line_limit() -> None:
    decoder = NDJSONDecoder(max_line_length=10)
    assert decoder.feed(b"0123456789") == []
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"!")
    assert decoder.feed(b'{"a":1}\n') == [b'{"a":1}']
    assert NDJSONDecoder().feed(b"abc\r\n  \ndef") == [b"abc"]


def test_chunking_does_not_change_events() -> None:
    assert feed_all([STREAM]) == EXPECTED
    assert feed_all([STREAM[i:i + 1] for i in range(len(STREAM))]) == EXPECTED
    for offset in range(len(STREAM) + 1):
        assert feed_all([STREAM[:offset], STREAM[offset:]]) == EXPECTED, offset


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=20))
def test_random_chunking_does_not_change_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)])]
    assert feed_all(chunks) == EXPECTED


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
MESSAGE_LIKE = st.fixed_dictionaries(
    {}, optional={"jsonrpc": st.sampled_from(["2.0", "1.0", 2]), "id": JSON_VALUES, "method": JSON_VALUES,
                  "params": JSON_VALUES, "result": JSON_VALUES, "error": JSON_VALUES | st.fixed_dictionaries(
                      {}, optional={"code": JSON_VALUES, "message": JSON_VALUES, "data": JSON_VALUES})})


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), MESSAGE_LIKE.map(lambda m: json.dumps(m).encode())),
       st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_garbage_yields_events_or_protocol_error(data: bytes, cuts: list[int]) -> None:
    session = JSONRPCSession()
    session.request("x")
    points = sorted(set(cuts))
    for chunk in [data[a:b] for a, b in zip([0, *points], [*points, len(data)])] + [b"\n"]:
        while True:
            try:
                events = session.feed(chunk)
            except ProtocolError:
                chunk = b""  # the bad line is consumed: keep draining what follows it
                continue
            assert all(isinstance(e, (Request, Notification, Response, ErrorResponse)) for e in events)
            break

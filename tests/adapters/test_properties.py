"""Property: any conversation built from the core message types survives each adapter.

For random lists of text, tool-call and tool-result messages (random roles, unicode text,
list content, nested JSON arguments and results), `build_request` must succeed, and:

- every tool result reaches the body with its call id and its content as a JSON string;
- every user and system text reaches the body, in order;
- echoing the body's assistant turns back as a provider response and parsing it with the
  same adapter's `parse_response` gives back the same assistant texts and the same tool
  calls (id, name, arguments), in order.

Known, documented transformations are part of the expectation, not exceptions to it: a
trailing assistant text from history is sent as a user turn by Anthropic and Gemini (Q9);
blank assistant texts are dropped by the OpenAI parser (as AgentKit).
"""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit_min.adapters import anthropic, gemini, grok, openai
from agentkit_min.messages import JSON, Message, ToolMessage

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,15}", fullmatch=True)
SCALARS = (st.none() | st.booleans() | st.integers(-(10**12), 10**12)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
ARGS = st.dictionaries(st.text(max_size=8), VALUES, max_size=4)
CONTENT = st.text(max_size=30) | st.lists(st.builds(lambda t: {"type": "text", "text": t}, st.text(max_size=12)),
                                           min_size=1, max_size=3)
RESULTS = st.one_of(st.builds(lambda v: {"data": v}, VALUES),
                    st.builds(lambda m: {"error": {"name": "ToolExecutionError", "message": m}}, st.text(max_size=20)))

Draft = tuple[str, Any]
DRAFTS: st.SearchStrategy[Draft] = st.one_of(
    st.tuples(st.just("text"), st.tuples(st.sampled_from(["system", "user", "assistant"]), CONTENT)),
    st.tuples(st.just("tool_call"), st.lists(st.tuples(NAMES, ARGS), min_size=1, max_size=3)),
    st.tuples(st.just("tool_result"), st.tuples(NAMES, RESULTS)),
)


@st.composite
def conversations(draw: st.DrawFn) -> list[Message]:
    """Messages with unique tool-call ids; results answer earlier calls when there are some."""
    prefix = draw(st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=6))
    out: list[Message] = []
    calls: list[ToolMessage] = []
    for kind, data in draw(st.lists(DRAFTS, max_size=8)):
        if kind == "text":
            out.append({"type": "text", "role": data[0], "content": data[1]})
        elif kind == "tool_call":
            tools: list[ToolMessage] = [{"type": "tool", "id": f"{prefix}{len(calls) + i}", "name": name,
                                         "input": args} for i, (name, args) in enumerate(data)]
            calls += tools
            out.append({"type": "tool_call", "role": "assistant", "tools": tools, "stop_reason": "tool"})
        else:
            name, content = data
            reuse = bool(calls) and draw(st.booleans())
            call: ToolMessage = draw(st.sampled_from(calls)) if reuse else {
                "type": "tool", "id": f"{prefix}r{len(out)}", "name": name, "input": {}}
            out.append({"type": "tool_result", "role": "tool_result", "tool": call, "content": content,
                        "stop_reason": "tool"})
    return out


def pieces(content: Any) -> list[str]:
    return [content] if isinstance(content, str) else [p["text"] for p in content]


def flipped(messages: list[Message]) -> Message | None:
    """The trailing assistant text Anthropic and Gemini send as a user turn (Q9)."""
    rest = [m for m in messages if not (m["type"] == "text" and m["role"] == "system")]
    last = rest[-1] if rest else None
    return last if last and last["type"] == "text" and last["role"] == "assistant" else None


def expected_calls(messages: list[Message]) -> list[tuple[str, str, JSON]]:
    return [(t["id"], t["name"], t["input"]) for m in messages if m["type"] == "tool_call" for t in m["tools"]]


def parsed_calls(output: list[Message]) -> list[tuple[str, str, JSON]]:
    return expected_calls(output)


def parsed_texts(output: list[Message]) -> list[str]:
    return [str(m["content"]) for m in output if m["type"] == "text" and m["content"]]


def results(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m["tool"]["id"], m["content"] if isinstance(m["content"], str) else
             json.dumps(m["content"], ensure_ascii=False, separators=(",", ":")))
            for m in messages if m["type"] == "tool_result"]


def texts_of(messages: list[Message], role: str, skip: Message | None = None) -> list[str]:
    return [p for m in messages if m["type"] == "text" and m["role"] == role and m is not skip
            for p in pieces(m["content"]) if p]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_openai_like(adapter: Any, messages: list[Message]) -> None:
    body = adapter.build_request("gpt-4o", messages, [], "auto", {}).body
    wire = json.loads(json.dumps(body))["messages"]
    assert [(m["tool_call_id"], m["content"]) for m in wire if m["role"] == "tool"] == results(messages)
    for role in ("system", "user"):
        sent = [p for m in wire if m["role"] == role for p in pieces(m["content"]) if p]
        assert sent == texts_of(messages, role)
    echoed = {"choices": [{"index": i, "message": m, "finish_reason": "stop"}
                          for i, m in enumerate(w for w in wire if w["role"] == "assistant")]}
    if not echoed["choices"]:
        assert not expected_calls(messages) and not texts_of(messages, "assistant")
        return
    output, _ = adapter.parse_response(200, echoed)
    assert parsed_calls(output) == expected_calls(messages)
    assistant = ["".join(pieces(m["content"])) for m in messages if m["type"] == "text" and m["role"] == "assistant"]
    assert parsed_texts(output) == [t for t in assistant if t.strip()]


@SETTINGS
@given(conversations())
def test_openai_round_trip(messages: list[Message]) -> None:
    check_openai_like(openai, messages)


@SETTINGS
@given(conversations())
def test_grok_round_trip(messages: list[Message]) -> None:
    check_openai_like(grok, messages)


@SETTINGS
@given(conversations())
def test_anthropic_round_trip(messages: list[Message]) -> None:
    body = json.loads(json.dumps(anthropic.build_request("claude", messages, [], "auto", {}).body))
    turns = body["messages"]
    blocks = [(t["role"], b) for t in turns for b in (
        [{"type": "text", "text": t["content"]}] if isinstance(t["content"], str) else t["content"])]
    assert all(a["role"] != b["role"] for a, b in zip(turns, turns[1:]))  # consecutive roles merged
    assert [(b["tool_use_id"], b["content"]) for _, b in blocks if b["type"] == "tool_result"] == results(messages)
    sent_results = [b for _, b in blocks if b["type"] == "tool_result"]
    assert [b.get("is_error", False) for b in sent_results] == [
        "error" in m["content"] for m in messages if m["type"] == "tool_result"]
    assert body.get("system", "") == "\n\n".join("".join(pieces(m["content"])) for m in messages
                                                 if m["type"] == "text" and m["role"] == "system")
    trailing = flipped(messages)
    assert [b["text"] for r, b in blocks if r == "user" and b["type"] == "text"] == \
        texts_of(messages, "user") + pieces_of(trailing)
    assistant_blocks = [b for r, b in blocks if r == "assistant"]
    if not assistant_blocks:
        assert not expected_calls(messages)
        return
    output, _ = anthropic.parse_response(200, {"type": "message", "role": "assistant", "content": assistant_blocks,
                                               "stop_reason": "end_turn", "usage": {}})
    assert parsed_calls(output) == expected_calls(messages)
    assert parsed_texts(output) == texts_of(messages, "assistant", skip=trailing)


def pieces_of(message: Message | None) -> list[str]:
    return [p for p in pieces(message["content"]) if p] if message and message["type"] == "text" else []


@SETTINGS
@given(conversations())
def test_gemini_round_trip(messages: list[Message]) -> None:
    body = json.loads(json.dumps(gemini.build_request("gemini-2.5-flash", messages, [], "auto", {}).body))
    contents = body["contents"]
    assert all(a["role"] != b["role"] for a, b in zip(contents, contents[1:]))
    parts = [(c["role"], p) for c in contents for p in c["parts"]]
    assert [(p["functionResponse"]["id"], p["functionResponse"]["response"]["content"])
            for _, p in parts if "functionResponse" in p] == results(messages)
    system = "\n\n".join("".join(pieces(m["content"])) for m in messages if m["type"] == "text" and m["role"] == "system")
    assert body.get("systemInstruction", {"parts": [{"text": ""}]})["parts"][0]["text"] == system
    trailing = flipped(messages)
    assert [p["text"] for r, p in parts if r == "user" and "text" in p and p["text"]] == \
        texts_of(messages, "user") + pieces_of(trailing)
    model_parts = [p for r, p in parts if r == "model"]
    if not model_parts:
        assert not expected_calls(messages)
        return
    response = {"candidates": [{"content": {"role": "model", "parts": model_parts}, "finishReason": "STOP"}],
                "responseId": "echo"}
    output, _ = gemini.parse_response(200, response)
    assert parsed_calls(output) == expected_calls(messages)
    assert parsed_texts(output) == texts_of(messages, "assistant", skip=trailing)


# --- fuzz: whatever comes back, parse_response returns messages or raises a typed error ----

KEYS = st.sampled_from(["choices", "message", "content", "tool_calls", "function", "arguments", "name", "id",
                        "type", "text", "candidates", "parts", "functionCall", "args", "usage", "usageMetadata",
                        "error", "code", "finishReason", "thoughtSignature", "tool_use", "input", "refusal",
                        "promptFeedback", "stop_reason", "index", "delta"])
SHAPES = st.recursive(SCALARS | KEYS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(KEYS, inner, max_size=5), max_leaves=25)
STATUSES = st.sampled_from([200, 200, 200, 400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 529])


@settings(max_examples=400, deadline=None)
@given(STATUSES, SHAPES | st.text(max_size=50), st.sampled_from(["openai", "anthropic", "gemini", "grok"]))
def test_parse_response_never_crashes_on_arbitrary_bodies(status: int, body: Any, provider: str) -> None:
    from agentkit_min.errors import AgentKitError, ModelHTTPError

    adapter = {"openai": openai, "anthropic": anthropic, "gemini": gemini, "grok": grok}[provider]
    try:
        output, usage = adapter.parse_response(status, body, {})
    except ModelHTTPError as exc:
        assert exc.status >= 400 or status == 200
        return
    except AgentKitError:
        return
    assert status < 400 and isinstance(output, list) and output
    assert all(m["type"] in ("text", "tool_call") for m in output)
    json.dumps(output)
    json.dumps(usage)

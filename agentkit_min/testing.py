"""Test doubles for agents and networks, shipped so users can test their own agents offline.

    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2}), "The sum is 3."])
    agent = create_agent(name="calc", system="...", model=model, tools=[add])
    network.run_sync("1+2?")
    assert model.requests[1].messages[-1]["type"] == "tool_result"
    model.assert_complete()

`play_cassette(path)` replays a provider cassette (vcrpy's format, JSON or YAML) through the real
adapters, stdlib only; `use_cassette(path, record_mode=...)` also records (`agentkit_min.cassette_record`).
`ScriptedModel` replies from a queue (a str, a message, a list of messages, a ModelResponse or
an exception to raise), records every request and raises `ScriptExhaustedError` when called
past its script. `FunctionModel(fn)` computes each reply from the request. Neither does IO.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence, Union

from ._aio import maybe_await
from .cassette import Cassette, play_cassette
from .cassette_record import use_cassette
from .errors import ScriptExhaustedError
from .messages import (JSON, Message, TextMessage, ToolCallMessage, ToolMessage, Usage,
                       tool_call_message)
from .model import ModelResponse, ToolChoice
from .tool import Tool

__all__ = ["ScriptedModel", "FunctionModel", "ModelRequest", "text", "tool_call", "reply",
           "Cassette", "play_cassette", "use_cassette"]

Reply = Union[str, Message, Sequence[Message], ModelResponse, BaseException]

_ids = itertools.count(1)


def text(content: str, *, role: str = "assistant", stop_reason: str = "stop") -> TextMessage:
    """An assistant text message."""
    return {"type": "text", "role": role, "content": content, "stop_reason": stop_reason}  # type: ignore[typeddict-item]


def tool_call(name: str, args: dict[str, JSON] | None = None, *, id: str | None = None,
              more: Iterable[tuple[str, dict[str, JSON]]] = ()) -> ToolCallMessage:
    """A tool-call message for `name(args)`; `more` adds further calls to the same message."""
    calls: list[ToolMessage] = [{"type": "tool", "id": id or f"call_{next(_ids)}", "name": name,
                                 "input": dict(args or {})}]
    for other, other_args in more:
        calls.append({"type": "tool", "id": f"call_{next(_ids)}", "name": other, "input": dict(other_args)})
    return tool_call_message(calls)


def reply(*messages: Message | str, usage: Usage | None = None, raw: JSON = None) -> ModelResponse:
    """A model response made of messages (strings become assistant text)."""
    output = [text(m) if isinstance(m, str) else m for m in messages]
    return ModelResponse(output=output, raw=raw, usage=usage or Usage())


@dataclass
class ModelRequest:
    """One recorded inference request."""

    messages: list[Message]
    tools: list[Tool]
    tool_choice: ToolChoice

    @property
    def tool_names(self) -> list[str]:
        return [t.name for t in self.tools]

    @property
    def json(self) -> list[dict[str, Any]]:
        """The messages as plain JSON dicts (handy for assertions)."""
        return [dict(m) for m in self.messages]

    @property
    def contents(self) -> list[Any]:
        """Each message's `content` (None for tool-call messages)."""
        return [m.get("content") for m in self.json]

    def to_dict(self) -> dict[str, JSON]:
        """JSON form used by the conformance cases: messages, tool names, tool_choice."""
        return {"messages": json.loads(json.dumps(self.messages)), "tools": self.tool_names,
                "tool_choice": self.tool_choice}


def _as_response(item: Reply) -> ModelResponse:
    if isinstance(item, ModelResponse):
        return item
    if isinstance(item, str):
        return reply(item)
    if isinstance(item, dict):
        return ModelResponse(output=[item])
    return ModelResponse(output=list(item))  # type: ignore[arg-type]


class ScriptedModel:
    """A model that answers from a script and records what it was sent."""

    __test__ = False  # not a pytest test class

    def __init__(self, replies: Iterable[Reply] = (), *, name: str = "scripted") -> None:
        self.script: list[Reply] = list(replies)
        self.requests: list[ModelRequest] = []
        self.provider, self.model = "scripted", name

    def add(self, *replies: Reply) -> ScriptedModel:
        """Append replies to the script; returns the model for chaining."""
        self.script.extend(replies)
        return self

    async def infer(self, messages: Sequence[Message], tools: Sequence[Tool],
                    tool_choice: ToolChoice) -> ModelResponse:
        """Record the request and return the next scripted reply (or raise it)."""
        self.requests.append(ModelRequest(list(messages), list(tools), tool_choice))
        index = len(self.requests) - 1
        if index >= len(self.script):
            raise ScriptExhaustedError(
                f"ScriptedModel {self.model!r} was called {index + 1} times but has "
                f"{len(self.script)} scripted replies; add replies or check the loop")
        item = self.script[index]
        if isinstance(item, BaseException):
            raise item
        return _as_response(item)

    @property
    def remaining(self) -> int:
        return max(len(self.script) - len(self.requests), 0)

    def assert_complete(self) -> None:
        """Raise AssertionError unless every scripted reply was used."""
        if self.remaining:
            raise AssertionError(f"ScriptedModel {self.model!r}: {self.remaining} scripted "
                                 f"replies were never requested (used {len(self.requests)})")


class FunctionModel:
    """A model whose reply is `fn(request)` (sync or async), for replies that depend on input."""

    __test__ = False

    def __init__(self, fn: Callable[[ModelRequest], Any], *, name: str = "function") -> None:
        self.fn = fn
        self.requests: list[ModelRequest] = []
        self.provider, self.model = "function", name

    async def infer(self, messages: Sequence[Message], tools: Sequence[Tool],
                    tool_choice: ToolChoice) -> ModelResponse:
        """Record the request and return `fn(request)` as a response."""
        request = ModelRequest(list(messages), list(tools), tool_choice)
        self.requests.append(request)
        return _as_response(await maybe_await(self.fn(request)))

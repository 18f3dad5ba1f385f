"""Agents: a system prompt, a model and tools (AgentKit's `createAgent`; spec/semantics.md "Agents").

One agent run (`Agent.run`):

  1. prepare the prompt: system prompt (static or dynamic), user input, assistant prefill;
     `on_start` may edit prompt and history, or stop the run;
  2. inference: one call to the model (memoised as a step in a durable engine);
     `on_response` may edit the result before tools run;
  3. tool calling: each requested tool runs in order; failures become tool results;
  4. standalone runs with `max_iter` > 1 loop back to 2 with the tool calls and their results
     in the next request (decision Q2); `on_finish` sees the final result.

Message order of every request (decision Q6): system, history that existed before this run,
the user input, what this run produced so far, the assistant prefill.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence, Union

from ._aio import maybe_await, run_sync
from .errors import UsageError
from .history import HistoryContext, initialize_thread, load_thread
from .lifecycle import AgentArgs, Lifecycle, LifecycleHooks, ResultArgs, StartArgs, parse_lifecycle
from .messages import Message, Usage, UserMessage, check_run_args, input_content, message_text
from .model import Model, ModelResponse
from ._request import handed, next_request, untouched
from .result import AgentResult, _Joined
from .state import State
from .streaming import DELTA_SINK, Parts, RunStream
from .tool import Tool, ToolContext, call_tool
from .trace import clock, model_label, traced

if TYPE_CHECKING:
    from .history import History
    from .network import NetworkRun
    from .step import Step
    from .streaming import Publish, StreamingContext

__all__ = ["Agent", "create_agent"]

log = logging.getLogger(__name__)

SystemPrompt = Union[str, Callable[[AgentArgs], Union[str, Awaitable[str]]]]


class Agent:
    """A named model with a system prompt and tools. Build it with `create_agent`."""

    def __init__(self, *, name: str, system: SystemPrompt, description: str = "",
                 model: Model | None = None, tools: Sequence[Tool] = (),
                 tool_choice: str | None = None, lifecycle: LifecycleHooks | Lifecycle | None = None,
                 mcp_servers: Sequence[Mapping[str, Any]] = (), history: History | None = None,
                 assistant: str = "", strict_tools: bool = False) -> None:
        if not isinstance(name, str) or not name:
            raise UsageError("create_agent: name must be a non-empty string")
        if not isinstance(system, str) and not callable(system):
            raise UsageError(f"create_agent({name!r}): system must be a str or a function(args) -> str")
        if model is not None and not isinstance(model, Model):
            raise UsageError(f"create_agent({name!r}): model must implement infer(messages, tools, tool_choice)")
        self.name = name
        self.description = description
        self.system = system
        self.model = model
        self.tools: dict[str, Tool] = {}
        for tool in tools:  # keyed by name; a later tool with the same name wins, as in TS
            if not isinstance(tool, Tool):
                raise UsageError(f"create_agent({name!r}): tools must be made with create_tool, got {tool!r}")
            self.tools[tool.name] = tool
        if tool_choice not in (None, "auto", "any") and tool_choice not in self.tools:
            raise UsageError(f"create_agent({name!r}): tool_choice {tool_choice!r} is not 'auto', "
                             f"'any' or one of the agent's tools ({', '.join(self.tools) or 'none'})")
        self.tool_choice = tool_choice
        self.lifecycle: Lifecycle = parse_lifecycle(lifecycle, f"create_agent({name!r})")
        self.mcp_servers = list(mcp_servers)
        self.history = history
        self.assistant = assistant
        self.strict_tools = strict_tools  # tool.py: raise handler errors instead of telling the model
        self._label: tuple[Any, str, Any] = (None, "", None)  # (model, name, provider) of its inference spans

    def with_model(self, model: Model) -> Agent:
        """A copy of this agent using `model`; every other option is kept (decision Q12)."""
        copy_ = object.__new__(type(self))
        copy_.__dict__.update(self.__dict__, model=model, tools=dict(self.tools))
        return copy_

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    async def run(self, input: str | UserMessage, *, model: Model | None = None,
                  network: NetworkRun | None = None, state: State[Any] | None = None,
                  max_iter: int = 0, publish: Publish | None = None,
                  step: Step | None = None) -> AgentResult:
        """Run the agent on `input` and return its result.

        Standalone (no `network`), `max_iter` 0 or 1 makes one inference, as AgentKit;
        `max_iter=N` loops while the model calls tools, at most N inferences (decision Q2).
        The result is not added to `state`; a configured `history` stores it (decision Q11).
        """
        standalone = network is None
        if network is None:
            from .network import NetworkRun  # here: network.py imports this module

            check_run_args(f"agent {self.name!r} run", input, state, (State,))
            if type(max_iter) is not int or max_iter < 0:
                raise UsageError(f"agent {self.name!r} run: max_iter must be an int >= 0, got {max_iter!r}")

            network = NetworkRun.standalone(self, state or State(), step)
        run, hctx, content = network, None, input_content(input)
        root: dict[str, Any] | None = None
        if standalone:  # the root span: it also sets the run's context (trace.py)
            root = run.trace.begin("agent", self.name, {"input": content})
        else:
            run.trace.push(("agent", self.name, None, content, None))  # a span opens when its route ended (Trace)
        span = "agent" if root is None else root  # what fails if this run does (Trace.fail)
        if self.history is not None:
            hctx = HistoryContext(run.state, run, content, run.state.thread_id, run.step)
            await run.trace.guard(span, initialize_thread(self.history, hctx))
            await run.trace.guard(span, load_thread(self.history, hctx))
        if standalone:
            run.open_streaming(publish)
            n_prior, turns = len(run.state._results), max(max_iter, 1)
            # a standalone run is its own agent-scoped stream, as AgentKit (section 7.3)
            await run._emit("run.started", scope="agent", runId=run.agent_run_id, name=self.name,
                            messageId=run.agent_message_id)
        else:
            n_prior, turns = run.initial_result_count, 1  # the network loop is the loop
        try:
            if self.mcp_servers:
                from .mcp import open_tools

                async with open_tools(self.mcp_servers, client_name=self.name) as mcp_tools:
                    tools = {**self.tools, **{t.name: t for t in mcp_tools}}
                    result = await self._run(input, run, model, turns, n_prior, tools)
            else:
                result = await self._run(input, run, model, turns, n_prior, self.tools)
            if root is not None:
                root["output"], root["usage"] = result.output, result.usage
            if hctx is not None and callable(append := getattr(self.history, "append_results", None)):
                # decision Q11: the agent's own result is stored
                hctx.new_results = [result]
                await traced("history", "append_results", append, hctx, fields={"thread_id": hctx.thread_id})
            if root is None:
                run.trace.push((clock(), result))  # the span closes (cancelled: the root closes it)
        except BaseException as exc:  # the trace ends with whatever ended the run (a cancel too: spec/trace.md)
            run.trace.fail(span, exc)
            if standalone and isinstance(exc, Exception):  # not a BaseException: durable engines pause runs by raising
                await run._emit("run.failed", scope="agent", runId=run.agent_run_id, name=self.name,
                                error=str(exc), recoverable=False)
            raise
        finally:
            if root is not None:
                run.trace.end(root)
                await run._emit("run.completed", scope="agent", runId=run.agent_run_id, name=self.name)
                await run._emit("stream.ended", scope="agent", messageId=run.agent_message_id)
        if standalone:
            result._trace = run.trace
        return result

    def run_sync(self, input: str | UserMessage, **options: Any) -> AgentResult:
        """`run` for synchronous code (scripts, notebooks without a loop, teaching)."""
        return run_sync(self.run(input, **options))

    def stream(self, input: str | UserMessage, **options: Any) -> RunStream[AgentResult]:
        """`run` as an async iterator of its events, tokens as they arrive; `.result` at the end."""
        return RunStream(lambda publish: self.run(input, publish=publish, **options))

    async def _run(self, input: str | UserMessage, run: NetworkRun, model: Model | None,
                   max_inferences: int, n_prior_results: int, tools: Mapping[str, Tool],
                   step_prefix: str = "infer") -> AgentResult:
        """The agent loop; inside a network this is called with max_inferences=1."""
        chosen = model or self.model or run.default_model
        if chosen is None:
            raise UsageError(f"No model provided to agent {self.name!r}: pass model= to create_agent "
                             f"or run(), or default_model= to create_network")
        log, cut = run.state._history(n_prior_results)  # shared, not copied (issue 14)
        prior, current = _Joined((log, 0, cut)), _Joined((log, cut, len(log)))
        kept, added = run._requests.pop(self, None), None  # this agent's last request in this run, if untouched
        system = self.system
        prompt = self._prompt(system if isinstance(system, str) else await maybe_await(system(AgentArgs(self, run))),
                              input)
        total: AgentResult | None = None
        # routing inferences publish nothing: their parts would belong to no agent run (section 7.3)
        stream = run.streaming if step_prefix != "route" else None
        for turn in range(max_inferences):
            if self.lifecycle.on_start is not None:
                change = await maybe_await(self.lifecycle.on_start(
                    StartArgs(self, run, input_content(input), list(prompt), (prior + current).into([]))))
                if change and change.get("stop"):  # no inference and no on_finish, as AgentKit
                    return total or AgentResult(self.name, [], [], prompt=prompt, history=prior + current)
                if change:
                    kept = None
                    prompt = list(change.get("prompt", prompt))
                    if "history" in change:
                        prior, current = _split(list(change["history"]), prior.into([]))
            messages = next_request(kept, prompt, prior, current, added)
            step = run.step  # step ids only for durable engines
            step_id = f"{self.name}:{step_prefix}:{run.counter if max_inferences == 1 else turn}" if step else ""
            parts = Parts(stream, run.agent_run_id, run.agent_message_id) if stream else None
            if self._label[0] is not chosen:  # the model's name and provider, found once per model
                self._label = (chosen, *model_label(chosen))
            trace = run.trace
            if len(trace.events) < trace.room:  # an inference span opens (Trace's docstring)
                trace.push(("inference", self._label, clock(), prompt, len(messages)))
            else:  # OpenTelemetry is on, or the trace is full
                trace.begin_inference(self._label, prompt, messages)
            held = handed(messages)  # the model may edit or keep it (_request.py)
            if step is None and parts is None and DELTA_SINK.get() is None:  # no wrapper coroutine needed
                response = await chosen.infer(messages, list(tools.values()), self.tool_choice or "auto")
            else:
                response = await self._infer(chosen, messages, tools, step, step_id, parts)
            trace.push((clock(), response.output, response.usage))  # and closes (its raw body is not kept)
            kept = untouched(messages, held)
            result = AgentResult(self.name, response.output, [], prompt=prompt,
                                 history=prior + current, raw=_raw(response.raw), usage=response.usage)
            if self.lifecycle.on_response is not None:
                result = await maybe_await(self.lifecycle.on_response(ResultArgs(self, run, result))) or result
            streamed = bool(parts and parts.streamed)  # a streamed reply was published as it arrived
            if stream and not streamed:
                await _stream_text(stream, run, result)
            calls = [m for m in result.output if m["type"] == "tool_call"]
            if calls:
                ctx = ToolContext(run, self, step)
            for msg in calls:
                for call in msg["tools"]:
                    trace.push(("tool", call["name"], clock(), call, None))  # a tool span opens
                    tool_result = await call_tool(tools, call, ctx, f"{step_id}:tool:{call['id']}" if step else None)
                    trace.push((clock(), tool_result["content"]))  # and closes (an error content fails it)
                    result.tool_calls.append(tool_result)
                    if stream:
                        await _stream_tool(stream, run, tool_result, not streamed)
            if stream and result.usage:
                await stream.emit("usage.updated", {"runId": run.agent_run_id,
                                                    "messageId": run.agent_message_id, "usage": dict(result.usage)})
            total = _merge(total, result)
            if not calls or turn == max_inferences - 1:  # no tool call, or the last turn
                break
            added = [*result.output, *result.tool_calls]
            current = current + _Joined.of(added)
        assert total is not None  # max_inferences >= 1
        if kept is not None and kept._shape is not None:  # the next agent run of this network run extends it
            run._requests[self] = kept
        if self.lifecycle.on_finish is not None:
            total = await maybe_await(self.lifecycle.on_finish(ResultArgs(self, run, total))) or total
        return total

    def _prompt(self, text: str, input: str | UserMessage) -> list[Message]:
        extra = input.system_prompt if isinstance(input, UserMessage) else None
        if extra:  # decision Q7: a UserMessage's system prompt reaches every agent of the run
            text = f"{text}\n\n{extra}"
        prompt: list[Message] = [{"type": "text", "role": "system", "content": text}]
        content = input_content(input)
        if content:
            prompt.append({"type": "text", "role": "user", "content": content})
        if self.assistant:  # the prefill is marked so adapters keep its assistant role (Q9)
            prompt.append({"type": "text", "role": "assistant", "content": self.assistant,
                           "meta": {"prefill": True}})
        return prompt

    async def _infer(self, model: Model, messages: list[Message], tools: Mapping[str, Tool],
                     step: Step | None, step_id: str, parts: Parts | None = None) -> ModelResponse:
        choice = self.tool_choice or "auto"
        # None too when an outer run's sink is set, so it does not leak in
        token = DELTA_SINK.set(parts) if parts is not None or DELTA_SINK.get() is not None else None
        try:
            if step is None:
                response = await model.infer(messages, list(tools.values()), choice)
            else:  # memoised: a replay does not call the model
                data = await step.run(step_id, _infer_json, model, messages, list(tools.values()), choice)
                response = ModelResponse(output=data["output"], raw=data.get("raw"), usage=Usage(**(data.get("usage") or {})))  # type: ignore[typeddict-item]
        finally:
            if token is not None:
                DELTA_SINK.reset(token)
        if parts is not None:
            await parts.close()
        return response


async def _infer_json(model: Model, messages: list[Message], tools: list[Tool], choice: str) -> dict[str, Any]:
    resp = await model.infer(messages, tools, choice)
    return {"output": resp.output, "raw": resp.raw, "usage": dict(resp.usage)}


def _split(history: list[Message], prior: list[Message]) -> tuple[_Joined, _Joined]:
    """After on_start replaced history: messages that were prior stay before the user input."""
    known = {id(m) for m in prior}
    return (_Joined.of([m for m in history if id(m) in known]),
            _Joined.of([m for m in history if id(m) not in known]))


def _merge(total: AgentResult | None, result: AgentResult) -> AgentResult:
    if total is None:
        return result
    usage: dict[str, int] = dict(total.usage)  # type: ignore[arg-type]
    for key, value in result.usage.items():
        usage[key] = usage.get(key, 0) + int(value)  # type: ignore[call-overload]
    return AgentResult(total.agent_name, total.output + result.output, total.tool_calls + result.tool_calls,
                       total.created_at, total.prompt, total._view(), result.raw, total.id, Usage(**usage))  # type: ignore[typeddict-item]


def _raw(raw: Any) -> str:
    return "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw, default=str)


async def _stream_text(stream: StreamingContext, run: NetworkRun, result: AgentResult) -> None:
    texts = [m for m in result.output if m["type"] == "text" and m["role"] == "assistant"]
    if texts:  # AgentKit streams the last assistant text of each inference
        await stream.part(run.agent_run_id, run.agent_message_id, "text", "text.delta", message_text(texts[-1]))


async def _stream_tool(stream: StreamingContext, run: NetworkRun, tool_result: Any, call_part: bool = True) -> None:
    name = tool_result["tool"]["name"]
    extra = {"toolName": name, "toolCallId": tool_result["tool"]["id"]}
    if call_part:  # False: the call's arguments were streamed as they arrived
        await stream.part(run.agent_run_id, run.agent_message_id, "tool-call", "tool_call.arguments.delta",
                          json.dumps(tool_result["tool"]["input"]), extra)
    await stream.part(run.agent_run_id, run.agent_message_id, "tool-output", "tool_call.output.delta",
                      json.dumps(tool_result["content"], default=str), extra)


def create_agent(*, name: str, system: SystemPrompt, description: str = "",
                 model: Model | None = None, tools: Sequence[Tool] = (),
                 tool_choice: str | None = None, lifecycle: LifecycleHooks | Lifecycle | None = None,
                 mcp_servers: Sequence[Mapping[str, Any]] = (), history: History | None = None,
                 assistant: str = "", strict_tools: bool = False) -> Agent:
    """Create an agent (AgentKit's `createAgent`).

    Args:
        name: unique within a network; what routers return.
        system: the system prompt, or a function `(args) -> str` (sync or async) of
            `args.agent` and `args.network` (e.g. `args.network.state.data`).
        description: what the agent is for; the default routing agent reads it.
        model: a Model (e.g. `openai(model="gpt-4o")`); else the run's or network's default.
        tools: tools made with `create_tool`.
        tool_choice: "auto" (default), "any", or a tool name to force.
        lifecycle: dict of hooks `enabled`, `on_start`, `on_response`, `on_finish`.
        mcp_servers: MCP servers whose tools the agent gets, as `<server>-<tool>`.
        history: history hooks (`HistoryConfig`, `SQLiteHistory`) for standalone runs.
        assistant: an assistant prefill placed last in every request.
        strict_tools: a tool handler's exception (or non-JSON result) fails the run instead of
            becoming a tool result the model reads; for tests.
    """
    return Agent(name=name, system=system, description=description, model=model, tools=tools,
                 tool_choice=tool_choice, lifecycle=lifecycle, mcp_servers=mcp_servers,
                 history=history, assistant=assistant, strict_tools=strict_tools)

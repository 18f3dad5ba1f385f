"""Networks: agents, shared state and a router, run in one loop (spec/semantics.md "Networks").

The loop, as AgentKit's docs tell it:

    1. ask the router which agent(s) run first (call_count 0)
    2. run the next queued agent (one inference, its tools)
    3. store its result in state
    4. stop once `max_iter` agents have run, else ask the router again, queue its answer
    5. repeat from 2 while agents are queued

Decision Q1: once `max_iter` agent runs have happened the loop ends WITHOUT calling the router
again (TS calls it once more and discards the answer). `max_iter` 0 / None means UNLIMITED,
as in AgentKit: with an LLM router that can mean a long, costly run; a warning is logged.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Generic, Sequence, TypeVar

from ._aio import maybe_await, run_sync
from .agent import Agent
from .errors import RoutingError, UsageError
from .history import HistoryContext, append_user_message, initialize_thread, load_thread, save_thread
from .lifecycle import AgentArgs, ResultArgs, RouterArgs
from .messages import UserMessage, check_run_args, input_content, new_id
from .model import Model
from .result import NEW_ID
from .routing import Router, RoutingAgent, get_default_routing_agent
from .state import State
from .streaming import Publish, RunStream, StreamingContext
from .trace import Trace, clock, route_of

if TYPE_CHECKING:
    from ._request import Request
    from .history import History
    from .step import Step

__all__ = ["Network", "NetworkRun", "create_network"]

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_ROUTER = ("No router or model defined in network.  You must pass a router or a default model "
             "to use the built-in agentic router.")


class Network(Generic[T]):
    """Agents + state + router. Build it with `create_network`; run it with `run`."""

    def __init__(self, *, agents: Sequence[Agent], name: str = "default", description: str = "",
                 default_model: Model | None = None, router: Router | None = None,
                 default_router: Router | None = None,
                 max_iter: int | None = 0, default_state: State[T] | None = None,
                 history: History | None = None) -> None:
        self.name, self.description = name, description
        self.agents: dict[str, Agent] = {}
        if isinstance(agents, (str, bytes, dict)) or not hasattr(agents, "__iter__"):
            raise UsageError(f"create_network({name!r}): agents must be a list of agents made with create_agent, "
                             f"got {type(agents).__name__}")
        for agent in agents:
            self.add_agent(agent)
        self.default_model = default_model
        self.router = default_router if default_router is not None else router  # as TS
        if self.router is not None and not (callable(self.router) or isinstance(self.router, Agent)):
            raise UsageError(f"create_network({name!r}): router must be a function or a routing agent")
        if max_iter is not None and (not isinstance(max_iter, int) or max_iter < 0):
            raise UsageError(f"create_network({name!r}): max_iter must be an int >= 0 (0 = unlimited)")
        self.max_iter = max_iter or 0
        self._state: State[T] | None = default_state  # None: each run starts from a new State
        self.history = history

    @property
    def state(self) -> State[T]:
        """The state each run starts from (a clone of it); made on first read when none was given."""
        if self._state is None:
            self._state = State()
        return self._state

    @state.setter
    def state(self, value: State[T]) -> None:
        self._state = value

    def add_agent(self, agent: Agent) -> None:
        """Add a member agent (replacing one with the same name)."""
        if not isinstance(agent, Agent):
            raise UsageError(f"network {self.name!r}: agents must be made with create_agent, got {agent!r}")
        self.agents[agent.name] = agent

    async def run(self, input: str | UserMessage, *, state: State[T] | dict[str, Any] | None = None,
                  router: Router | None = None, default_router: Router | None = None,
                  publish: Publish | None = None,
                  step: Step | None = None) -> NetworkRun:
        """Run the network on `input`; returns the finished run (its `.state` holds the results).

        `state` may be a State (used and mutated as-is), its JSON (`State.to_dict()`), or None
        (a clone of `default_state`). `router` overrides the network's router for this run.
        """
        check_run_args(f"network {self.name!r} run", input, state, (State, dict))
        if isinstance(state, dict):
            chosen: State[Any] = State.from_dict(state)
        else:
            chosen = state if state is not None else self._state.clone() if self._state is not None else State()
        run = NetworkRun(self, chosen, step)
        try:
            return await run.execute(input, router or default_router or self.router, publish)
        except BaseException as exc:  # a failure before the loop's own try (history, `enabled`) ends the trace
            run.trace.fail(None, exc)
            raise

    def run_sync(self, input: str | UserMessage, **options: Any) -> NetworkRun:
        """`run` for synchronous code."""
        return run_sync(self.run(input, **options))

    def stream(self, input: str | UserMessage, **options: Any) -> RunStream[NetworkRun]:
        """`run` as an async iterator of its events (`async for event in network.stream(...)`):
        tokens as they arrive; `.result` is the finished run; leaving the loop cancels it."""
        return RunStream(lambda publish: self.run(input, publish=publish, **options))


class NetworkRun:
    """One run of a network: what routers, tools and hooks see as `network`."""

    def __init__(self, network: Network[Any], state: State[Any], step: Step | None = None) -> None:
        self.network = network
        self.name, self.description = network.name, network.description
        self.agents = network.agents  # public members, seen by the default routing agent
        self.default_model, self.max_iter, self.history = network.default_model, network.max_iter, network.history
        self.state = state
        self.step = step
        self.counter = 0  # agent runs completed in this run: the router's call_count
        self.initial_result_count = len(state._results)
        self.streaming: StreamingContext | None = None
        self.run_id = self.agent_run_id = self.agent_message_id = new_id()
        self.trace = Trace(self.run_id)
        """What this run did (spec/trace.md): `trace.to_dict()`, `write(path)`, `page(path)`."""
        self._agents = network.agents  # members plus agents a router returned (copied on write)
        self._stack: tuple[str, ...] = ()  # names queued to run next (a tuple of str: no object for the GC)
        self._route: tuple[str, str] = ("", "")
        self._requests: dict[Any, Request] = {}  # each agent's last request, to extend (agentkit_min/_request.py)

    @classmethod
    def standalone(cls, agent: Agent, state: State[Any], step: Step | None) -> NetworkRun:
        """The one-agent run an `agent.run()` outside a network works in."""
        return cls(Network(agents=[]), state, step)

    def open_streaming(self, publish: Publish | None) -> None:
        """Start sending run events to `publish` (no-op when it is None)."""
        if publish is not None:
            self.streaming = StreamingContext(publish, self.state)

    async def available_agents(self) -> list[Agent]:
        """Members whose `enabled` hook is absent or returns true."""
        out = []
        for agent in self.agents.values():
            enabled = agent.lifecycle.enabled
            if enabled is None or await maybe_await(enabled(AgentArgs(agent, self))):
                out.append(agent)
        return out

    async def _emit(self, event: str, **data: Any) -> None:
        if self.streaming is not None:
            await self.streaming.emit(event, data)

    async def execute(self, input: str | UserMessage, router: Any, publish: Publish | None) -> NetworkRun:
        """The network loop (module docstring): history set-up, router, agents, history save."""
        content = input_content(input)
        root = self.trace.begin("network", self.name, {"input": content})
        ctx = None if self.history is None else HistoryContext(self.state, self, content, self.state.thread_id,
                                                               self.step)
        if ctx is not None:  # the hooks are no-ops without history
            had_thread = bool(self.state.thread_id)
            await initialize_thread(self.history, ctx)
            msg = input if isinstance(input, UserMessage) else UserMessage(content)
            ctx.user_message = {**msg.to_dict(), "timestamp": (msg.client_timestamp or datetime.now(timezone.utc)).isoformat()}
            await append_user_message(self.history, ctx)
            if had_thread:
                await load_thread(self.history, ctx)
        self.initial_result_count = len(self.state._results)
        self.open_streaming(publish)
        await self._emit("run.started", scope="network", runId=self.run_id, name=self.name)
        if not await self.available_agents():
            raise UsageError("no agents enabled in network")
        if self.max_iter == 0 and (router is None or isinstance(router, RoutingAgent)):
            log.warning("network %r: max_iter=0 (unlimited) with an LLM router", self.name)
        try:
            self._route = route_of(router)  # the name and kind of every "route" span of this run
            self._stack += await self._next_agents(input, router)
            if not self._stack:
                return self  # nothing to do: no results, so nothing to append to history
            while self._stack:
                agent, self._stack = self._agents[self._stack[0]], self._stack[1:]
                if self.streaming:  # event observers see the agent run's ids before its result exists
                    self.agent_run_id, self.agent_message_id = new_id(), new_id()
                    await self._emit("run.started", scope="agent", runId=self.agent_run_id, name=agent.name,
                                     parentRunId=self.run_id, messageId=self.agent_message_id)
                result = await agent.run(input, network=self)
                result.id = self.agent_message_id if self.streaming else NEW_ID  # NEW_ID: made when read
                if self.streaming:
                    await self._emit("run.completed", scope="agent", runId=self.agent_run_id, name=agent.name)
                self.counter += 1
                self.state.append_result(result)
                if self.max_iter and self.counter >= self.max_iter:
                    break  # decision Q1: the router is not asked again
                self._stack += await self._next_agents(input, router)
            if ctx is not None:
                await save_thread(self.history, ctx, self.initial_result_count)
        except BaseException as exc:  # the trace ends with whatever ended the run (a cancel too: spec/trace.md)
            self.trace.end(root, None, exc)
            if isinstance(exc, Exception):  # not a BaseException: a durable engine pauses runs by raising
                await self._emit("run.failed", scope="network", runId=self.run_id,
                                 error=str(exc), recoverable=False)
            raise
        finally:
            self._requests.clear()  # not kept with the finished run
            self.trace.end(root)
            await self._emit("run.completed", scope="network", runId=self.run_id, name=self.name)
            await self._emit("stream.ended", scope="network", runId=self.run_id)
        return self

    async def _next_agents(self, input: str | UserMessage, router: Any) -> tuple[str, ...]:
        """The names of the agents the router says run next, traced as a "route" span (spec/trace.md)."""
        trace = self.trace
        trace.push(("route", self._route, None, self.counter, None))  # opens when the step before ended (Trace)
        try:
            agents = await self._decide(input, router)
        except Exception as exc:
            trace.fail("route", exc)
            raise
        names = tuple([a.name for a in agents])  # str only: no object for the GC once seen
        trace.push((clock(), names))  # and closes
        return names

    async def _decide(self, input: str | UserMessage, router: Any) -> list[Agent]:
        """Ask the router (code, routing agent or the default one) what runs next."""
        if router is None and self.default_model is None:
            raise UsageError(NO_ROUTER)
        router = router if router is not None else get_default_routing_agent()
        if not isinstance(router, RoutingAgent):
            stack = []
            for name in self._stack:
                if name not in self._agents:
                    raise RoutingError(f"unknown agent in the network stack: {name}")
                stack.append(self._agents[name])
            results = self.state._results  # not the public copy: O(1) per decision
            args = RouterArgs(input_content(input), self, stack, self.counter,
                              results[-1] if results else None,
                              input if isinstance(input, UserMessage) else None)
            router = router(args)
            if router is not None and not isinstance(router, (Agent, list, tuple)) and inspect.isawaitable(router):
                router = await router
            if not router:
                return []
        if isinstance(router, RoutingAgent):
            return await self._route_with(router, input)
        agents = list(router) if isinstance(router, (list, tuple)) else [router]
        for agent in agents:
            if not isinstance(agent, Agent):
                raise UsageError(f"network {self.name!r}: the router returned {agent!r}; "
                                 f"return an Agent, a list of Agents, a routing agent or None")
            if agent.name not in self._agents:  # non-members run too (section 1.4)
                self._agents = {**self._agents, agent.name: agent}
        return agents

    async def _route_with(self, router: RoutingAgent, input: str | UserMessage) -> list[Agent]:
        result = await router._run(input, self, router.model, 1, self.initial_result_count,
                                   router.tools, step_prefix="route")
        self.trace.note({"output": result.output, "usage": result.usage, "routing_agent": router.name})
        on_route = router.lifecycle.on_route
        names = (await maybe_await(on_route(ResultArgs(router, self, result))) if on_route else None) or []
        unknown = [n for n in names if n not in self.agents]
        if unknown:
            log.warning("routing agent %r chose non-members %s; ignored", router.name, unknown)
        return [self.agents[n] for n in names if n in self.agents]


def create_network(*, agents: Sequence[Agent], name: str = "default", description: str = "",
                   default_model: Model | None = None, router: Router | None = None,
                   default_router: Router | None = None, max_iter: int | None = 0,
                   default_state: State[Any] | None = None,
                   history: History | None = None) -> Network[Any]:
    """Create a network (AgentKit's `createNetwork`).

    Args:
        agents: the member agents (by name; a later one with the same name wins).
        name: the network's name (used for server routes and Inngest ids).
        default_model: used by agents without a model and by the default routing agent.
        router: a function `(args: RouterArgs) -> Agent | list[Agent] | RoutingAgent | None`
            (sync or async), or a routing agent. None uses the default routing agent.
        default_router: AgentKit's alias of `router`; wins when both are given.
        max_iter: the most agent runs per `run`; 0 or None = unlimited (see module docstring).
        default_state: state each run starts from (cloned, never mutated by runs).
        history: history hooks (`HistoryConfig`, `SQLiteHistory`) persisting threads.
    """
    return Network(agents=agents, name=name, description=description, default_model=default_model,
                   router=router, default_router=default_router, max_iter=max_iter,
                   default_state=default_state, history=history)

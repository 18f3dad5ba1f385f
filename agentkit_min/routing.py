"""Routing agents and the default routing agent (spec/semantics.md "Routers", section 2).

A routing agent is an agent whose `on_route` hook turns its inference into the names of the
agents to run next. The default routing agent (used when a network has no router) offers the
model two tools, `select_agent` and `done`, forces a tool call (`tool_choice="any"`) and
lists the network's enabled agents in its system prompt. Deviation Q17: each agent's tools are
listed as `{name, description, parameters}` with the JSON Schema (TS prints zod internals).
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Sequence, Union

from .agent import Agent, SystemPrompt
from .errors import RoutingError, UsageError
from .lifecycle import AgentArgs, Lifecycle, LifecycleHooks, ResultArgs, RouterArgs, parse_lifecycle
from .model import Model
from .tool import Tool, ToolContext, create_tool

__all__ = ["Router", "RoutingAgent", "create_routing_agent", "get_default_routing_agent"]


class RoutingAgent(Agent):
    """An agent that decides which agents run next (`lifecycle["on_route"]` is required)."""

    type = "routing"

    def __init__(self, *, name: str, system: SystemPrompt, lifecycle: LifecycleHooks | Lifecycle,
                 description: str = "", model: Model | None = None, tools: Sequence[Tool] = (),
                 tool_choice: str | None = None, assistant: str = "") -> None:
        hooks = parse_lifecycle(lifecycle, f"create_routing_agent({name!r})")
        if hooks.on_route is None:
            raise UsageError(f"create_routing_agent({name!r}): lifecycle['on_route'] is required; "
                             f"it returns the names of the agents to run next, or None to stop")
        super().__init__(name=name, system=system, description=description, model=model,
                         tools=tools, tool_choice=tool_choice, lifecycle=hooks, assistant=assistant)


def create_routing_agent(*, name: str, lifecycle: LifecycleHooks | Lifecycle,
                         system: SystemPrompt = "", description: str = "", model: Model | None = None,
                         tools: Sequence[Tool] = (), tool_choice: str | None = None,
                         assistant: str = "") -> RoutingAgent:
    """Create a routing agent (AgentKit's `createRoutingAgent`) for a network's `router`.

    `lifecycle["on_route"](args)` receives `args.result` (this agent's inference),
    `args.agent` and `args.network`, and returns a list of agent names or None to stop.
    """
    return RoutingAgent(name=name, system=system, lifecycle=lifecycle, description=description,
                        model=model, tools=tools, tool_choice=tool_choice, assistant=assistant)


RouterResult = Union[Agent, Sequence[Agent], RoutingAgent, None]
CodeRouter = Callable[[RouterArgs], Union[RouterResult, Awaitable[RouterResult]]]
Router = Union[CodeRouter, RoutingAgent]  # a network's router: code (sync or async) or a routing agent


def _select_agent(args: dict[str, Any], ctx: ToolContext) -> str:
    name = args.get("name")
    if not isinstance(name, str):
        raise RoutingError("The routing agent requested an invalid agent")
    if name not in ctx.network.agents:  # members only; `enabled` is not consulted (as TS)
        raise RoutingError(f"The routing agent requested an agent that doesn't exist: {name}")
    return name


def _done(args: dict[str, Any], ctx: ToolContext) -> str:
    return str(args.get("summary") or "Conversation completed successfully")


def _on_route(args: ResultArgs) -> list[str] | None:
    """Only the first tool result counts: select_agent -> [name]; done or text -> stop."""
    calls = args.result.tool_calls
    if not calls or calls[0]["tool"]["name"] != "select_agent":
        return None
    content = calls[0]["content"]
    if isinstance(content, dict) and isinstance(content.get("data"), str):
        return [content["data"]]
    return None


async def _routing_prompt(args: AgentArgs) -> str:
    if args.network is None:
        raise UsageError("The routing agent can only be used within a network of agents")
    blocks = []
    for agent in await args.network.available_agents():
        tools = [{"name": t.name, "description": t.description, "parameters": t.parameters}
                 for t in agent.tools.values()]
        blocks.append(
            f"\n    <agent>\n      <name>{agent.name}</name>\n"
            f"      <description>{agent.description or ''}</description>\n"
            f"      <tools>{json.dumps(tools, separators=(',', ':'))}</tools>\n    </agent>"
        )
    return (
        "You are the orchestrator between a group of agents. Each agent is suited for specific "
        "tasks and has a name, description, and tools.\n\n"
        "The following agents are available:\n<agents>\n  " + "\n".join(blocks) + "\n</agents>\n\n"
        "Your responsibilities:\n"
        "1. Analyze the conversation history and current state\n"
        "2. Determine if the request has been completed or if more work is needed\n"
        "3. Either:\n"
        "   - Call select_agent to route to the appropriate agent for the next step\n"
        "   - Call done if the conversation is complete or the user's request has been fulfilled\n\n"
        "<instructions>\n"
        "  - If the user's request has been addressed and no further action is needed, call the done tool\n"
        "  - If more work is needed, select the most appropriate agent based on their capabilities\n"
        "  - Consider the context and history when making routing decisions\n"
        "  - Be efficient - don't route to agents unnecessarily if the task is complete\n"
        "</instructions>"
    )


_default: RoutingAgent | None = None


def get_default_routing_agent() -> RoutingAgent:
    """The shared "Default routing agent" (created on first use, never at import)."""
    global _default
    if _default is None:
        select = create_tool(name="select_agent", description="Select an agent to handle the next step of the conversation",
                             parameters={"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
                                 "name": {"type": "string", "description": "The name of the agent that should handle the request"},
                                 "reason": {"type": "string", "description": "Brief explanation of why this agent was chosen"}}},
                             handler=_select_agent, run_in_thread=False)  # both are instant: no thread hop
        done = create_tool(name="done", description="Signal that the conversation is complete and no more agents need to be called",
                           parameters={"type": "object", "additionalProperties": False, "properties": {
                               "summary": {"type": "string", "description": "Brief summary of what was accomplished"}}},
                           handler=_done, run_in_thread=False)
        _default = RoutingAgent(
            name="Default routing agent", description="Selects which agents to work on based off of the current prompt and input.",
            system=_routing_prompt, tools=[select, done], tool_choice="any",
            lifecycle=Lifecycle(on_route=_on_route))
    return _default

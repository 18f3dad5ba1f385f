"""Deterministic state routing: a planner and an editor driven by typed state.

Mirrors the seed's "Advanced Patterns > Deterministic state routing": `AgentState` with
`files`, `plan` and `done`; a router that returns None when `done`, the Planner while there is
no `plan`, else the Editor; and a Planner whose `create_plan` tool stores the plan in state
(recording it with `step.run("plan created", ...)` when a durable step is present).

The repository is a small in-memory dict kept in state (`sources`), so the example is safe to
run: the Planner lists and reads files and writes a plan; the Editor writes the fix and sets
`done`. Every decision is in the router; each agent has one goal and its own tools.

With OPENAI_API_KEY set both agents use gpt-4o-mini; without it the cassette
fixtures/examples/state_routing_coding_network.json answers the same requests.
"""

from __future__ import annotations

from typing import Any, TypedDict

import _bootstrap  # noqa: F401

from agentkit_min import (Agent, AgentArgs, NetworkRun, RouterArgs, Step, ToolContext, create_agent,
                          create_network, create_state, create_tool)

from _models import provider_model, replay
from _show import show


class Edit(TypedDict):
    filename: str
    idea: str
    reasoning: str


class Plan(TypedDict):
    thoughts: str
    plan_details: str
    edits: list[Edit]


class AgentState(TypedDict, total=False):
    repo: str
    sources: dict[str, str]  # our addition: the files' contents (the seed reads a real repo)
    files: list[str]  # all files that currently exist in the repo
    plan: Plan  # set by the planning agent's create_plan tool; absent until then
    done: bool  # set when the editing agent finishes: terminates the network


STRING = {"type": "string"}
NO_ARGS = {"type": "object", "properties": {}, "additionalProperties": False}
FILENAME = {"type": "object", "properties": {"filename": STRING}, "required": ["filename"],
            "additionalProperties": False}


def state_of(ctx: ToolContext) -> AgentState:
    data: AgentState = ctx.network.state.data
    return data


def list_files(args: dict[str, Any], ctx: ToolContext) -> list[str]:
    state = state_of(ctx)
    state["files"] = sorted(state.get("sources", {}))
    return state["files"]


def read_file(args: dict[str, Any], ctx: ToolContext) -> str:
    return state_of(ctx).get("sources", {})[args["filename"]]  # a KeyError becomes a tool error


async def create_plan(plan: Plan, ctx: ToolContext) -> str:
    # Store this in the function state for introspection in tracing.
    if ctx.step is not None:
        await ctx.step.run("plan created", lambda: plan)
    state_of(ctx)["plan"] = plan
    return "Plan created. It will be implemented next."


def write_file(args: dict[str, Any], ctx: ToolContext) -> str:
    state_of(ctx).setdefault("sources", {})[args["filename"]] = args["content"]
    return f"Wrote {args['filename']}"


def finish_editing(args: dict[str, Any], ctx: ToolContext) -> str:
    state_of(ctx)["done"] = True
    return "Done"


planning_tools = [
    create_tool(name="list_files", description="List the files in the repository",
                parameters=NO_ARGS, handler=list_files),
    create_tool(name="read_file", description="Read an entire file", parameters=FILENAME,
                handler=read_file),
    create_tool(
        name="create_plan",
        description="Describe a formal plan for how to fix the issue, including which files "
                    "to edit and reasoning.",
        parameters={
            "type": "object", "required": ["thoughts", "plan_details", "edits"],
            "additionalProperties": False,
            "properties": {
                "thoughts": STRING, "plan_details": STRING,
                "edits": {"type": "array", "items": {
                    "type": "object", "required": ["filename", "idea", "reasoning"],
                    "additionalProperties": False,
                    "properties": {"filename": STRING, "idea": STRING, "reasoning": STRING}}},
            },
        },
        handler=create_plan,
        uses_step=True,  # the handler makes its own durable step, so its call is not wrapped in one
    ),
]

editing_tools = [
    create_tool(name="write_file", description="Replace a file's whole content",
                parameters={"type": "object", "properties": {"filename": STRING, "content": STRING},
                            "required": ["filename", "content"], "additionalProperties": False},
                handler=write_file),
    create_tool(name="finish_editing", description="Call when every edit of the plan is made",
                parameters=NO_ARGS, handler=finish_editing),
]


def planner_prompt(args: AgentArgs) -> str:
    # Agent prompts can also inspect network state and conversation history.
    return f"""
    You are an expert Python programmer working on a specific project: {args.network.state.data.get("repo")}.

    You are given an issue reported within the project.  You are planning how to fix the issue by
    investigating the report, the current code, then devising a "plan" - a spec - to modify code to
    fix the issue.

    Your plan will be worked on and implemented after you create it.  You MUST create a plan to
    fix the issue.  Be thorough. Think step-by-step using available tools.

    Techniques you may use to create a plan:
    - List the files, then read entire files
    """


def editor_prompt(args: AgentArgs) -> str:
    plan = args.network.state.data.get("plan")
    return (f"You are an expert Python programmer. Implement this plan exactly, with write_file, "
            f"then call finish_editing. Plan: {plan}")


SOURCES = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "README.md": "# calc\n\n`add(a, b)` returns the sum of a and b.\n",
}
ISSUE = "calc.add(2, 3) returns -1 instead of 5."


def main(step: Step | None = None) -> NetworkRun:
    """Fix ISSUE; `step` is a durable engine's step tools (None runs everything in process)."""
    planning_agent = create_agent(
        name="Planner", description="Plans the code to write and which files should be edited",
        system=planner_prompt, tools=planning_tools,
        model=provider_model("openai", "gpt-4o-mini"),
    )
    editing_agent = create_agent(
        name="Editor", description="Edits files to implement the plan",
        system=editor_prompt, tools=editing_tools,
        model=provider_model("openai", "gpt-4o-mini"),
    )

    def router(args: RouterArgs) -> Agent | None:
        # The router inspects network state to figure out which agent to call next.
        data: AgentState = args.network.state.data
        if data.get("done") or args.call_count >= 12:  # done, or an iteration limit
            return None
        # No plan yet: the planner reads files until its create_plan tool stores one.
        if "plan" not in data:
            return planning_agent
        # There is a plan, so switch to the editing agent to begin implementing.
        return editing_agent

    network = create_network(name="Code writing network", agents=[planning_agent, editing_agent],
                             router=router)
    state = create_state(AgentState(repo="calc", sources=dict(SOURCES), done=False))
    with replay("state_routing_coding_network"):  # offline: fixtures/examples/<this name>.json
        return network.run_sync(ISSUE, state=state, step=step)


if __name__ == "__main__":
    run = main()
    show(run)
    print("done:", run.state.data["done"])
    print("calc.py is now:\n" + run.state.data["sources"]["calc.py"])

"""Using state in tools: a `write_files` tool that keeps files in `network.state.data`.

Mirrors the seed's "Concepts > State", "Using state in tools": the handler reads
`network.state.data.files`, adds the model's files, and stores them back, so later agents,
tools and routers can use them. A handler that returns nothing gives the model
`{"data": "write_files successfully executed"}`.
"""

from __future__ import annotations

from typing import Any

import _bootstrap  # noqa: F401

from agentkit_min import NetworkRun, RouterArgs, ToolContext, create_agent, create_network, create_tool
from agentkit_min.testing import ScriptedModel, tool_call

from _models import live_or
from _show import show


def write_files_handler(output: dict[str, Any], ctx: ToolContext) -> None:
    """Store each file the model wrote under its name in `state.data["files"]`."""
    files = ctx.network.state.data.get("files") or {}
    for file in output["files"]:
        files[file["filename"]] = file["content"]
    ctx.network.state.data["files"] = files


write_files = create_tool(
    name="write_files",
    description="Write code with the given filenames",
    parameters={
        "type": "object",
        "properties": {"files": {"type": "array", "items": {
            "type": "object",
            "properties": {"filename": {"type": "string"}, "content": {"type": "string"}},
            "required": ["filename", "content"], "additionalProperties": False}}},
        "required": ["files"], "additionalProperties": False,
    },
    handler=write_files_handler,
)

OFFLINE_SCRIPT = [tool_call("write_files", {"files": [
    {"filename": "greet.ts", "content": "export const greet = (name: string) => `Hello, ${name}!`"},
    {"filename": "greet.test.ts", "content": "expect(greet('Ada')).toBe('Hello, Ada!')"},
]})]


def main() -> NetworkRun:
    coder = create_agent(
        name="Coder",
        description="Writes TypeScript files",
        system="You are an expert TypeScript programmer. Save all code with write_files.",
        model=live_or(ScriptedModel(OFFLINE_SCRIPT)),
        tools=[write_files],
    )

    def router(args: RouterArgs) -> Any:  # stop once some files exist
        return None if args.network.state.data.get("files") or args.call_count >= 3 else coder

    network = create_network(name="Coding network", agents=[coder], router=router)
    return network.run_sync("Write a greet(name) function and a test for it.")


if __name__ == "__main__":
    run = main()
    show(run)
    for name, content in run.state.data["files"].items():
        print(f"--- {name}\n{content}")

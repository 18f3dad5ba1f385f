"""The durable-step interface (spec/semantics.md, "Durable steps").

Inside a durable execution engine (Inngest), a run may be replayed from the start after a
failure; work wrapped in a named step is memoised and not repeated. agentkit-min models the
engine as the small `Step` protocol below and passes it to tool handlers and hooks as
`ctx.step`. Outside an engine `step` is None and everything runs in process.

When a step is present, the core wraps every model inference and every tool call in
`step.run(step_id, ...)` with ids that are deterministic and unique within a run:

    <agent name>:infer:<n>           the n-th inference of this run (network iteration or tool-loop turn)
    <router name>:route:<n>          the n-th routing-agent inference
    <agent name>:infer:<n>:tool:<call id>  a tool call of that inference (<inference id>:tool:<call id>)

Steps cannot nest (the engine forbids it), so a tool whose handler uses `ctx.step` itself
(multi-step and human-in-the-loop tools) is created with `create_tool(..., uses_step=True)`:
its call is not wrapped and its own steps give it durability.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

__all__ = ["Step"]


@runtime_checkable
class Step(Protocol):
    """What a durable engine offers; `agentkit_min.inngest` adapts Inngest's step tools."""

    async def run(self, step_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` (sync or async) once; on replay return its memoised JSON result."""
        ...

    async def wait_for_event(
        self, step_id: str, *, event: str, timeout: float, if_exp: str | None = None
    ) -> Any:
        """Pause until `event` arrives (matching `if_exp`), or return None after `timeout` seconds."""
        ...

    async def invoke(self, step_id: str, *, function: Any, data: dict[str, Any]) -> Any:
        """Run another durable function with `data` and return its result."""
        ...

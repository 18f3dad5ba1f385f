"""The two-agent network the round trips record and replay (standard library and agentkit_min only,
so a `python -S` subprocess can import it)."""

from __future__ import annotations

from typing import Any

from agentkit_min.models import ProviderModel
from agentkit_min.network import NetworkRun

from ..adapters.scenarios import FACTORIES, MODELS, network_params

KEY = "sk-roundtrip-KEY-0123456789"


def model(provider: str, base_url: str) -> ProviderModel:
    """`provider`'s model pointed at `base_url` (a loopback fake provider, or its cassette)."""
    return FACTORIES[provider](MODELS[provider], api_key=KEY, base_url=base_url, max_retries=0,
                               default_parameters=network_params(provider))


def summary(run: NetworkRun) -> list[Any]:
    """What the run did: agents in order, the tools each called, the first tool result, the note, the last text."""
    results = run.state.results
    return [[(r.agent_name, [t["tool"]["name"] for t in r.tool_calls]) for r in results],
            results[0].tool_calls[0]["content"], run.state.data.get("note"), results[-1].output[-1].get("content")]

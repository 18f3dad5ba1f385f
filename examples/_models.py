"""How the examples get a model, live or offline.

With the provider's API key set, an example talks to the provider for real. Without it, which
is how the tests run them, it stays offline in one of two ways (copy whichever suits you):

1. Provider examples build the real model, `provider_model("openai", "gpt-4o-mini")`, and run
   inside `with replay("<example name>"):`, which answers each HTTP request from the cassette
   `fixtures/examples/<example name>.json`. The adapter still builds the real request body
   (the cassette checks it) and parses a real-shaped response; nothing leaves the machine.
   Those cassettes are constructed by hand, see fixtures/examples/README.md.
2. Concept examples pass a test double from `agentkit_min.testing` through `live_or(...)`:
   a `ScriptedModel` or `FunctionModel` replying what a real model plausibly would.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

import _bootstrap  # noqa: F401

from agentkit_min import Model
from agentkit_min.http import Transport, use_transport

CASSETTES = Path(__file__).resolve().parent.parent / "fixtures" / "examples"

API_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
            "gemini": "GEMINI_API_KEY", "grok": "XAI_API_KEY"}
"""The environment variable each provider factory reads its key from."""

OFFLINE_KEY = "offline-replay"
"""The key offline models carry: it only ever reaches a cassette, never a provider."""

constructing: Transport | None = None
"""Set by fixtures/examples/construct.py while it builds the cassettes; None otherwise."""


def is_live(provider: str = "openai") -> bool:
    """True when `provider`'s API key is set in the environment."""
    return bool(os.environ.get(API_KEYS[provider]))


def provider_model(provider: str, model: str, **options: Any) -> Model:
    """`openai(model)`, `anthropic(model)`, ...: live with its key, else a cassette answers it."""
    from agentkit_min import models  # the provider factories

    factory = getattr(models, provider)
    key = None if is_live(provider) else OFFLINE_KEY  # None: the factory reads the env var
    if key is not None:  # the example cassettes hold non-streamed replies (streaming.py's do not)
        options.setdefault("stream", False)
    built: Model = factory(model, api_key=key, **options)
    return built


@contextlib.contextmanager
def replay(name: str, *providers: str) -> Iterator[None]:
    """Offline, answer model requests in this block from fixtures/examples/<name>.json.

    Does nothing when every provider used (default: openai) has its API key set. The cassette
    must be played to the end: a request it has no answer for, or an answer left over, raises.
    """
    if constructing is not None:
        with use_transport(constructing):
            yield
    elif all(is_live(p) for p in providers or ("openai",)):
        yield
    else:
        from agentkit_min.testing import play_cassette

        with play_cassette(CASSETTES / f"{name}.json"):
            yield


def live_or(offline: Model, provider: str = "openai", model: str = "gpt-4o-mini") -> Model:
    """`provider`'s `model` when its key is set, otherwise the test double `offline`."""
    return provider_model(provider, model) if is_live(provider) else offline

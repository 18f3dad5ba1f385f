"""How the examples pick a model: the real provider when its API key is set, else a stand-in.

Offline (no key, which is how the tests run them) each example passes a test double from
`agentkit_min.testing`, a `ScriptedModel` or `FunctionModel` that replies what a real model
plausibly would. With the key set, the same example talks to the provider for real.
"""

from __future__ import annotations

import os

import _bootstrap  # noqa: F401

from agentkit_min import Model

API_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
            "gemini": "GEMINI_API_KEY", "grok": "XAI_API_KEY"}
"""The environment variable each provider factory reads its key from."""


def is_live(provider: str = "openai") -> bool:
    """True when `provider`'s API key is set in the environment."""
    return bool(os.environ.get(API_KEYS[provider]))


def live_or(offline: Model, provider: str = "openai", model: str = "gpt-4o-mini") -> Model:
    """`provider`'s `model` when its key is set, otherwise `offline`."""
    if not is_live(provider):
        return offline
    from agentkit_min import models  # the provider factories: openai(...), anthropic(...), ...

    factory = getattr(models, provider)
    live: Model = factory(model=model)
    return live

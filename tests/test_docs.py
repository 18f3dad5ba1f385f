"""Every public name has a docstring, so `python -m pydoc agentkit_min` reads as a reference."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import agentkit_min


def test_every_public_module_class_function_and_method_is_documented() -> None:
    missing: list[str] = []
    for info in pkgutil.walk_packages(agentkit_min.__path__, "agentkit_min."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        if not module.__doc__:
            missing.append(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
                missing.append(f"{info.name}.{name}")
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                for attr, value in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(value) and not value.__doc__:
                        missing.append(f"{info.name}.{name}.{attr}")
    assert missing == []

"""Write the cassettes in fixtures/: recorded from the live APIs, or constructed by hand.

    python scripts/record.py                 # `make record`: re-record every provider whose key is set
    python scripts/record.py openai grok     # only these providers (keys required)
    python scripts/record.py --construct     # rebuild the constructed cassettes, no network

Recording uses agentkit-min's own recorder (`agentkit_min.cassette_record.use_cassette`,
`record_mode="all"`, vcrpy's JSON format, no vcrpy needed) with the settings in `recorder()`,
around the same scenarios the tests replay (tests/adapters/scenarios.py): the credential
headers and `Set-Cookie` dropped, the `key` query parameter dropped, the key's value redacted
wherever the provider echoes it, OpenAI's organization and project headers dropped
(tests/cassettes/test_record_script.py runs these exact settings against a loopback fake). Errors
that cannot be provoked on demand (429, 500, 529) are left as constructed cassettes; 401 and
400 are provoked with a wrong key and an out-of-range temperature. fixtures/manifest.json
says, per cassette, whether it was recorded (when, which model) or constructed.

`--construct` runs the scenarios through agentkit-min with a transport that answers with the
hand-written provider responses of tests/adapters/fakes.py and writes down the requests it
was sent: the request bodies are what agentkit-min sends, the responses are constructed
from each provider's published API reference.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentkit_min.cassette_record import use_cassette  # noqa: E402
from agentkit_min.errors import ModelHTTPError  # noqa: E402
from agentkit_min.http import SECRET_HEADERS, use_transport  # noqa: E402
from agentkit_min.models import ProviderModel  # noqa: E402
from tests.adapters import fakes  # noqa: E402
from tests.adapters.scenarios import (  # noqa: E402
    ENV_VARS, FACTORIES, MODELS, PROVIDERS, Scenario, drive, network_params, network_replies,
    run_network, scenarios)

FIXTURES = ROOT / "fixtures"
MANIFEST = FIXTURES / "manifest.json"
NOT_PROVOKABLE = {"error_429", "error_500", "error_529"}
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests",
           500: "Internal Server Error", 529: ""}


def make_model(provider: str, api_key: str, params: Mapping[str, Any] | None = None,
               max_retries: int = 0, base_url: str | None = None) -> ProviderModel:
    return FACTORIES[provider](MODELS[provider], api_key=api_key, default_parameters=params,
                               max_retries=max_retries, sleep=lambda s: None, base_url=base_url)


def run(provider: str, scenario: Scenario | None, api_key: str, base_url: str | None = None) -> None:
    """Run one scenario (None = the network one); expected provider errors are swallowed."""
    try:
        if scenario is None:
            run_network(make_model(provider, api_key, network_params(provider), base_url=base_url))
        else:
            asyncio.run(drive(make_model(provider, scenario.api_key or api_key, scenario.params,
                                         base_url=base_url), scenario))
    except ModelHTTPError as exc:
        if scenario is None or scenario.error is None:
            raise
        print(f"  {provider}/{scenario.name}: {type(exc).__name__} ({exc.status})")


class Constructor:
    """A transport answering with constructed responses and writing a vcrpy JSON cassette."""

    def __init__(self, provider: str, replies: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.provider = provider
        self.replies = list(replies)
        self.interactions: list[dict[str, Any]] = []

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                 timeout: float) -> tuple[int, dict[str, str], bytes]:
        status, payload, extra = self.replies.pop(0)
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, indent=1)
        response_headers = {"Content-Type": "application/json", **extra}
        self.interactions.append({
            "request": {"method": method, "uri": _strip_key(url), "body": body.decode("utf-8"),
                        "headers": {k: [v] for k, v in headers.items() if k.lower() not in SECRET_HEADERS}},
            "response": {"status": {"code": status, "message": REASONS.get(status, "")},
                         "headers": {k: [v] for k, v in response_headers.items()},
                         "body": {"string": text}},
        })
        return status, {k.lower(): v for k, v in response_headers.items()}, text.encode("utf-8")


def _strip_key(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "key"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def construct(provider: str, manifest: dict[str, Any]) -> None:
    model = MODELS[provider]
    jobs: list[tuple[str, Scenario | None, list[dict[str, Any]]]] = [
        (s.name, s, s.replies) for s in scenarios(provider)]
    jobs.append(("network", None, network_replies(provider)))
    for name, scenario, replies in jobs:
        if scenario is not None and scenario.error is not None:
            body, headers = fakes.error(provider, *scenario.error)
            rendered = [(scenario.error[0], body, headers)]
        else:
            rendered = [(200, fakes.response(provider, r, n, model), {}) for n, r in enumerate(replies, 1)]
        constructor = Constructor(provider, rendered)
        with use_transport(constructor):
            run(provider, scenario, "constructed-key")
        if constructor.replies:
            raise SystemExit(f"{provider}/{name}: {len(constructor.replies)} constructed replies unused")
        _write(provider, name, {"version": 1, "interactions": constructor.interactions})
        manifest[f"{provider}/{name}.json"] = {"source": "constructed", "model": model}


def recorder(path: Path, key: str) -> Any:
    """The cassette `make record` records into: these settings are what the test checks."""
    return use_cassette(path, "all", secrets=[key], before_record_response=_drop_org)


def record(provider: str, manifest: dict[str, Any], fixtures: Path = FIXTURES,
           base_url: str | None = None) -> None:
    key = os.environ[ENV_VARS[provider]]
    today = datetime.date.today().isoformat()
    jobs: list[tuple[str, Scenario | None]] = [(s.name, s) for s in scenarios(provider)]
    jobs.append(("network", None))
    for name, scenario in jobs:
        if name in NOT_PROVOKABLE:
            print(f"  {provider}/{name}: kept constructed (cannot be provoked on demand)")
            continue
        path = fixtures / provider / f"{name}.json"
        path.unlink(missing_ok=True)
        with recorder(path, key):
            run(provider, scenario, key, base_url)
        manifest[f"{provider}/{name}.json"] = {"source": "recorded", "date": today, "model": MODELS[provider]}
        print(f"  {provider}/{name}: recorded")


def _drop_org(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {k: v for k, v in response["headers"].items()
                           if k.lower() not in ("openai-organization", "openai-project")}
    return response


def _write(provider: str, name: str, cassette: dict[str, Any]) -> None:
    path = FIXTURES / provider / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cassette, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("providers", nargs="*", help=f"any of {', '.join(PROVIDERS)} (default: all)")
    parser.add_argument("--construct", action="store_true", help="rebuild the constructed cassettes")
    args = parser.parse_args(argv)
    unknown = [p for p in args.providers if p not in PROVIDERS]
    if unknown:
        parser.error(f"unknown provider(s) {', '.join(unknown)}; choose from {', '.join(PROVIDERS)}")
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    action: Callable[[str, dict[str, Any]], None] = construct if args.construct else record
    chosen = args.providers or list(PROVIDERS)
    done = 0
    for provider in chosen:
        if not args.construct and not os.environ.get(ENV_VARS[provider]):
            print(f"{provider}: {ENV_VARS[provider]} is not set; its cassettes stay as they are")
            continue
        print(f"{provider}: {'constructing' if args.construct else 'recording'}")
        action(provider, manifest)
        done += 1
    MANIFEST.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    if not done:
        print("nothing recorded: set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or XAI_API_KEY")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

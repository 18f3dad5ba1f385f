"""Serve a network as Inngest functions at /api/inngest: the seed's "Deployment" page in Python.

The seed serves its network with `createServer({ networks: [network] })` and
`server.listen(3010)`, then syncs `<deployment URL>/api/inngest` with Inngest. The Python
twin uses the Inngest SDK's own FastAPI adapter on uvicorn:

    client = inngest.Inngest(app_id="my-agentkit-network")
    app = fastapi.FastAPI()
    inngest.fast_api.serve(app, client, create_functions(client, networks=[network]))
    uvicorn.run(app, port=3010)                  # -> http://<host>:3010/api/inngest

Install from a checkout: `pip install -e '.[inngest]'` (the SDK, fastapi and uvicorn), or
`pip install 'dist/agentkit_min-0.1.0-py3-none-any.whl[inngest]'` after
`pip wheel --no-deps -w dist .`.
Run `python examples/deployment_inngest.py [--port 3010] [--host 0.0.0.0]`. The Inngest SDK
reads its configuration from the environment:

    INNGEST_SIGNING_KEY   production: every request from Inngest must carry a valid
                          X-Inngest-Signature made with this key (others get 401)
    INNGEST_EVENT_KEY     production: lets this app send events (`client.send`)
    INNGEST_DEV=1         development: talk to a local Inngest Dev Server instead; nothing is
                          signed (the seed's `npx inngest-cli dev -u http://localhost:3010/api/inngest`)

Then sync the app in the Inngest dashboard with the URL ending in /api/inngest and send the
event `my-agentkit-network/network-my-network` with data `{"input": "..."}`: each inference
and tool call of the run is a memoised step, so a retried run never repeats them. With
OPENAI_API_KEY set the agent uses gpt-4o; without it a deterministic test double answers
(tests/test_examples.py and tests/test_inngest_http.py drive this app over HTTP with an
executor double that speaks Inngest's protocol).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import TYPE_CHECKING, Any, Callable, Sequence

import _bootstrap  # noqa: F401

from agentkit_min import Agent, Network, RouterArgs, ToolContext, create_agent, create_network, create_tool
from agentkit_min.inngest import create_functions
from agentkit_min.testing import FunctionModel, ModelRequest, text, tool_call

from _models import live_or

if TYPE_CHECKING:
    import fastapi
    import inngest

APP_ID = "my-agentkit-network"
NOTES = {  # a stand-in for the web the research agent searches
    "durable": "Durable execution memoises each completed step, so a retry resumes after it.",
    "inngest": "Inngest calls your app at /api/inngest and keeps each step's result.",
}


def search(args: dict[str, Any], ctx: ToolContext) -> list[str]:
    """The notes whose topic appears in the query."""
    return [note for topic, note in NOTES.items() if topic in str(args["query"]).lower()]


def offline_reply(request: ModelRequest) -> Any:
    """What the research agent's model plausibly answers: search first, then summarise."""
    last = request.messages[-1]
    if last["type"] == "tool_result":
        found = last["content"].get("data") if isinstance(last["content"], dict) else None
        return text(f"Research summary: {' '.join(found or ['nothing found'])}")
    return tool_call("search", {"query": str(last.get("content", ""))})


def research_network(model: Any = None) -> Network[Any]:
    """The seed's "My Network" with its "Deep Research Agent"."""
    deep_research_agent = create_agent(
        name="Deep Research Agent",
        description="Researches a question with its search tool and summarises what it found.",
        system="You are a researcher. Search first, then answer with a short summary.",
        tools=[create_tool(
            name="search", description="Search the notes",
            parameters={"type": "object", "properties": {"query": {"type": "string"}},
                        "required": ["query"], "additionalProperties": False},
            handler=search)],
    )

    def until_answered(args: RouterArgs) -> Agent | None:
        last = args.last_result
        if last is None or any(m["type"] == "tool_call" for m in last.output):
            return deep_research_agent
        return None

    return create_network(name="My Network", agents=[deep_research_agent], router=until_answered,
                          default_model=model or live_or(FunctionModel(offline_reply), "openai", "gpt-4o"),
                          max_iter=6)


def create_app(client: inngest.Inngest, functions: Sequence[inngest.Function[Any]]) -> fastapi.FastAPI:
    """A FastAPI app serving `functions` at /api/inngest (GET inspect, PUT sync, POST run)."""
    import fastapi
    import inngest.fast_api

    app = fastapi.FastAPI()
    inngest.fast_api.serve(app, client, list(functions))
    return app


def serve(app: Any, host: str = "127.0.0.1", port: int = 3010) -> None:
    """Serve `app` with uvicorn; port 0 picks a free one. Prints the URL once listening."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    print(f"AgentKit network running at http://{host}:{sock.getsockname()[1]}/api/inngest",
          flush=True)  # the seed's "Agent kit running!"
    server.run(sockets=[sock])


def serve_if_asked(make_function: Callable[[inngest.Inngest, Network[Any]], inngest.Function[Any]]) -> bool:
    """The twins' `--serve [--port N]`: serve `make_function`'s function; False when not asked (or no SDK)."""
    try:
        import inngest
    except ImportError:
        raise SystemExit("This example needs the Inngest SDK: pip install -e '.[inngest]' from a checkout")
    if "--serve" not in sys.argv:
        return False
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 3010
    client = inngest.Inngest(app_id="my-agentkit-network")
    serve(create_app(client, [make_function(client, research_network())]), port=port)
    return True


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the network until interrupted (SIGINT / SIGTERM)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to accept outside connections")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3010")))
    options = parser.parse_args(argv)
    if not os.environ.get("INNGEST_DEV") and not os.environ.get("INNGEST_SIGNING_KEY"):
        raise SystemExit("Set INNGEST_SIGNING_KEY (production: Inngest signs every request) or "
                         "INNGEST_DEV=1 (a local Inngest Dev Server; nothing is signed).")
    try:
        import inngest
    except ImportError:
        raise SystemExit("This example needs the Inngest SDK, FastAPI and uvicorn: "
                         "pip install -e '.[inngest]' from a checkout") from None

    client = inngest.Inngest(app_id=APP_ID)  # reads INNGEST_DEV / _SIGNING_KEY / _EVENT_KEY
    serve(create_app(client, create_functions(client, networks=[research_network()])),
          options.host, options.port)


if __name__ == "__main__":
    main()

"""A served network for the kill-and-restart test: `python serve_app.py <history.db> [token]`.

Prints the bound port on stdout, then serves until killed. The model is in-process (constructed
replies, no network IO): it echoes the latest user text and how many history messages it saw.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from agentkit_min.agent import create_agent
from agentkit_min.messages import message_text
from agentkit_min.network import create_network
from agentkit_min.server import create_server
from agentkit_min.sqlite_history import SQLiteHistory
from agentkit_min.testing import FunctionModel, ModelRequest


async def echo(request: ModelRequest) -> str:
    texts = [m for m in request.messages if m["type"] == "text" and m["role"] != "system"]
    latest = message_text(texts[-1])
    if latest.startswith("slow:"):  # "slow:<marker file>": say we started, then take a while
        Path(latest[5:]).write_text("started")
        await asyncio.sleep(0.5)
    return f"echo: {latest} (after {len(texts) - 1} earlier messages)"


def main() -> None:
    history = SQLiteHistory(sys.argv[1])
    agent = create_agent(name="Echo", system="You echo.", model=FunctionModel(echo))
    network = create_network(name="Echo Net", agents=[agent], history=history,
                             router=lambda args: agent if args.call_count == 0 else None)
    server = create_server(networks=[network], history=history,
                           token=sys.argv[2] if len(sys.argv) > 2 else None)
    server.listen(0, callback=lambda: print(server.port, flush=True))
    server.serve_forever()


if __name__ == "__main__":
    main()

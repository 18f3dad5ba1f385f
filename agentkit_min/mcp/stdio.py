"""The stdio transport (MCP "Transports: stdio"): a server as a child process.

Newline-delimited JSON-RPC over its stdin and stdout. Its stderr is drained into this module's
logger at DEBUG, so a chatty server never blocks on a full pipe; its environment is ours plus
`env` (as AgentKit), so PATH still reaches it. A stdout line that is not JSON-RPC is logged and
skipped (servers that `print` exist). Closing follows the spec: close stdin, wait, SIGTERM,
SIGKILL, a short grace period each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any, Mapping, Sequence

from ..errors import MCPConnectionError, ProtocolError, UsageError
from .base import MessageQueue, cancel_all
from .jsonrpc import NDJSONDecoder, encode_message, parse_message

__all__ = ["StdioTransport"]

logger = logging.getLogger(__name__)

_GRACE = 2.0  # seconds between the shutdown steps


class StdioTransport:
    """MCP over a child process's stdin/stdout."""

    def __init__(self, command: str, args: Sequence[str] = (), *, env: Mapping[str, str] | None = None,
                 cwd: str | None = None) -> None:
        """Create the transport (the process starts in `connect`).

        Args:
            command: the executable, looked up on PATH.
            args: its arguments.
            env: variables added to (or overriding) this process's environment.
            cwd: working directory for the server, default ours.
        """
        if not isinstance(command, str) or not command:
            raise UsageError("stdio transport needs a non-empty 'command' string")
        if isinstance(args, str) or not all(isinstance(a, str) for a in args):
            raise UsageError(f"stdio transport 'args' must be a list of strings, got {args!r}")
        self.command = command
        self.args = list(args)
        self.env = dict(env or {})
        self.cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self._inbox = MessageQueue()
        self._tasks: list[asyncio.Task[None]] = []
        self._write_lock = asyncio.Lock()
        self._closed = False

    @property
    def _label(self) -> str:
        return " ".join([self.command, *self.args])

    async def connect(self) -> None:
        """Start the server process.

        Raises:
            MCPConnectionError: the command cannot be started (not found, not executable...).
        """
        if self._process is not None or self._closed:
            raise MCPConnectionError(f"stdio transport for {self._label!r} was already used")
        try:
            pipe = asyncio.subprocess.PIPE
            self._process = await asyncio.create_subprocess_exec(
                self.command, *self.args, stdin=pipe, stdout=pipe, stderr=pipe,
                env={**os.environ, **self.env}, cwd=self.cwd)
        except OSError as exc:
            raise MCPConnectionError(f"cannot start MCP server {self._label!r}: {exc}") from None
        self._tasks = [asyncio.create_task(self._read_stdout()), asyncio.create_task(self._drain_stderr())]

    async def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        lines = NDJSONDecoder()
        try:
            while chunk := await stdout.read(64 * 1024):
                for line in lines.feed(chunk):
                    try:
                        self._inbox.put(parse_message(line))
                    except ProtocolError as exc:
                        logger.warning("MCP server %r wrote a non-JSON-RPC line to stdout: %s", self.command, exc)
        except ProtocolError as exc:  # a line beyond the size limit: the session is over
            self._inbox.fail(MCPConnectionError(f"MCP server {self._label!r}: {exc}"))
            with contextlib.suppress(OSError):  # discarded to the end, so the pipe sees EOF and closes
                while await stdout.read(64 * 1024):
                    pass
            return
        except OSError as exc:
            self._inbox.fail(MCPConnectionError(f"stdout of MCP server {self._label!r} failed: {exc}"))
            return
        code = await self._exit_code()
        how = f"exited with code {code}" if code is not None else "closed its stdout"
        self._inbox.fail(MCPConnectionError(f"MCP server {self._label!r} {how}"))

    async def _exit_code(self) -> int | None:
        assert self._process is not None
        try:
            return await asyncio.wait_for(self._process.wait(), 1.0)
        except asyncio.TimeoutError:
            return None

    async def _drain_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        stderr, pending = self._process.stderr, b""
        try:
            # Chunks, not readline(): a giant line must not stop the draining (the server would
            # then block on a full pipe); it is logged in pieces instead.
            while chunk := await stderr.read(64 * 1024):
                *lines, pending = (pending + chunk).split(b"\n")
                if len(pending) > 64 * 1024:
                    lines, pending = [*lines, pending], b""
                for line in lines:
                    logger.debug("[%s stderr] %s", self.command, line.decode("utf-8", "replace").rstrip())
        except OSError:
            pass

    async def send(self, message: dict[str, Any]) -> None:
        """Write one message as a line on the server's stdin.

        Raises:
            MCPConnectionError: the process is not running or its stdin is closed.
        """
        process = self._process
        if process is None or process.stdin is None or self._closed or self._inbox.failed:
            raise MCPConnectionError(f"MCP server {self._label!r} is not running")
        async with self._write_lock:  # one line at a time, even with concurrent senders
            try:
                process.stdin.write(encode_message(message) + b"\n")
                await process.stdin.drain()
            except (ConnectionError, OSError) as exc:
                raise MCPConnectionError(f"cannot write to MCP server {self._label!r}: {exc}") from None

    async def receive(self) -> dict[str, Any]:
        """The next message from stdout; MCPConnectionError once the process has gone."""
        return await self._inbox.get()

    async def close(self) -> None:
        """Close stdin, then wait, terminate and kill as needed. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._inbox.fail(MCPConnectionError(f"stdio transport to {self._label!r} was closed"))
        process = self._process
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            for step in (None, process.terminate, process.kill):
                if step is not None and process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        step()
                try:
                    await asyncio.wait_for(process.wait(), _GRACE)
                    break
                except asyncio.TimeoutError:
                    continue
            # the process is gone: its readers reach EOF at once (then its pipes close, not at GC)
            await asyncio.wait(self._tasks, timeout=_GRACE)
        await cancel_all(self._tasks)

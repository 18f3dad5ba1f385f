"""agentkit-min's own MCP client (work in progress; see base.Transport)."""

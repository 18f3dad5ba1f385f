"""agentkit-min: Inngest's AgentKit in plain standard-library Python."""

__version__ = "0.1.0"

"""agentkit-min's test suite. Tests import the package as `agentkit_min` only."""

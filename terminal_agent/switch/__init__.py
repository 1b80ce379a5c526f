"""The HTTP client to the Electrum switch (the only module that speaks HTTP)."""

from terminal_agent.switch.client import Reply, SwitchClient

__all__ = ["Reply", "SwitchClient"]

"""Till-side agent for Electrum value-added services."""

__version__ = "0.1.0"

"""One error tree, grouped by what the caller does about it.

- ``ConfigError``: a person must fix a file; never retried.
- ``ValidationError``: a value given to us (by a cashier, a caller or the config) breaks a rule of
  the protocol; names the field; nothing was sent.
- ``SwitchError`` and children: the switch could not be asked or did not answer usefully.
  ``SwitchUnavailable`` (connect failed: the request was certainly not received) differs from
  ``SwitchTimeout`` (the request may have been received: outcome unknown).
- ``StoreError``: the local database refused a write (disk full, locked); nothing half-written.
- ``DeviceError``: printer, scanner or drawer trouble.

Declines are values (see ``protocol.outcome``), never exceptions.
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""


class ConfigError(AgentError):
    """The configuration is wrong; the message names file, key and line where known."""


class ValidationError(AgentError, ValueError):
    """A value breaks a protocol or business rule. ``field`` is a dotted path such as
    ``originator.terminalId``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class SwitchError(AgentError):
    """Talking to the switch failed."""


class SwitchUnavailable(SwitchError):
    """The request never reached the switch (connection refused, DNS, TLS handshake)."""


class SwitchTimeout(SwitchError):
    """The request may have reached the switch but no full answer came in time: outcome unknown."""


class SwitchProtocolError(SwitchError):
    """The switch answered something we cannot use (connection reset mid-answer, bad framing)."""


class StoreError(AgentError):
    """The database refused a write or cannot be used; what was already committed is intact."""


class StoreUnavailable(StoreError):
    """A passing condition (disk full, database locked, I/O trouble): try again later."""


class StoreFull(StoreUnavailable):
    """The disk (or the database's page limit) is full: new sales are refused."""


class StoreBusy(StoreUnavailable):
    """Another process held the database longer than the busy timeout."""


class StoreMissing(StoreError):
    """No database (missing, empty or never initialised) where the config says: a person must
    create it on purpose (``terminal-agent init``) or restore a backup."""


class StoreForeign(StoreError):
    """The database belongs to another till (its terminal id differs from the config's)."""


class StoreDamaged(StoreError):
    """The database file is corrupt (integrity check failed): restore a backup."""


class StoreVersion(StoreError):
    """The database's schema does not match this agent (newer, or older and not migrated)."""


class IllegalTransition(AgentError):
    """A state change that the state machine table does not allow."""


class DeviceError(AgentError):
    """Printer, scanner or drawer trouble."""


class InsecureFile(AgentError):
    """A secret or the database is readable by others."""

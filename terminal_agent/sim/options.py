"""Start-up options of the simulator (what `terminal-agent sim` and tests pass to `build_app`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SimOptions:
    """``state_path``: SQLite file (None = in memory). ``record_path``: JSON-lines request log.
    ``credentials``: accepted Basic credentials, ``"USER:PASSWORD"`` strings or
    ``(user, password)`` pairs; empty = any well-formed Basic credentials pass. ``faults``: fault
    spec applied at start (a dict, a list of dicts, or JSON text; see ``sim.faults``)."""

    state_path: str | Path | None = None
    record_path: str | Path | None = None
    credentials: Sequence[str | tuple[str, str]] = field(default_factory=tuple)
    faults: Any = None

    def credential_pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(parse_credentials(self.credentials))


def parse_credentials(items: Iterable[str | tuple[str, str]]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str):
            user, sep, password = item.partition(":")
            if not sep or not user:
                raise ValueError("credentials must look like USER:PASSWORD")
            pairs.append((user, password))
        else:
            user, password = item
            pairs.append((str(user), str(password)))
    return pairs


def load_fault_spec(text: str) -> Any:
    """``--faults`` value: JSON text, or ``@file`` holding JSON."""
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    return json.loads(text)

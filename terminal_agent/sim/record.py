"""``--record FILE``: every request the simulator receives, one JSON line each, flushed at once.

A line holds ``time``, ``method``, ``path``, ``query`` (name -> value), ``body`` (the parsed JSON,
the text when it is not JSON, or null), ``op`` (the operation name or null), ``user`` and
``has_auth``. The password and the ``Authorization`` header are never written. Control requests
under ``/_sim/`` are not recorded.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO, Any

from terminal_agent.security import create_private_file


class Recorder:
    def __init__(self, path: str | Path | None) -> None:
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        if path:  # requests hold voucher PINs, PIN blocks and ID numbers: owner only
            create_private_file(Path(path))
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, *, method: str, path: str, query: dict[str, str], raw: bytes,
              op: str | None, user: str | None, has_auth: bool) -> None:
        if self._file is None:
            return
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
            "method": method, "path": path, "query": query, "body": _body(raw),
            "op": op, "user": user, "has_auth": has_auth,
        }
        text = json.dumps(line, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            if self._file is not None:
                self._file.write(text + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")

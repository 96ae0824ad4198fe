"""Who did what, when, on the staff panel: one JSON line per action, never any visitor data.

Entries name the staff user, the action and non-personal details (a target id, a language, the
length of a typed sentence, never its text); booking numbers never come through here at all.
"""
from __future__ import annotations

from datetime import UTC, datetime
import json
import os
from pathlib import Path
import threading

#: Details an entry may carry; anything else is dropped so visitor data cannot slip in by accident.
ALLOWED_DETAILS = frozenset({'target_id', 'language', 'enable', 'chars', 'result', 'client', 'reason', 'role'})


class AuditLog:
    """Appends to a JSON-lines file (created 0600); keeps the last entries in memory for the panel."""

    def __init__(self, path: str | Path | None, keep: int = 200):
        self.path = Path(path) if path else None
        self._keep = keep
        self._recent: list[dict] = []
        self._lock = threading.Lock()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def record(self, user: str, action: str, **details: object) -> dict:
        entry = {'time': datetime.now(UTC).isoformat(timespec='milliseconds'), 'user': user, 'action': action}
        entry.update({k: v for k, v in details.items() if k in ALLOWED_DETAILS})
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            self._recent = [*self._recent[-(self._keep - 1):], entry]
            if self.path:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, 'a', encoding='utf-8') as f:
                    f.write(line + '\n')
        return entry

    def recent(self, n: int = 20) -> list[dict]:
        with self._lock:
            return list(self._recent[-n:])

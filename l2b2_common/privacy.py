"""Visitors are people in a public office: booking numbers and names never reach a log in clear."""
from __future__ import annotations

import hashlib
import hmac
import os

# A per-process random key: the same value gives the same token within one run (so a log can be
# followed), but tokens cannot be reversed by trying all booking numbers, and differ across runs.
_KEY = os.urandom(16)


def redact(value: object, kind: str = 'id') -> str:
    """A short stable token for a personal value, e.g. ``booking#3f2a9c1d``; empty stays empty."""
    text = '' if value is None else str(value)
    if not text:
        return f'{kind}#-'
    digest = hmac.new(_KEY, text.encode('utf-8', 'surrogatepass'), hashlib.sha256).hexdigest()
    return f'{kind}#{digest[:8]}'

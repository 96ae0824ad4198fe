"""What every ``l2b2-bench <area>`` returns: rows for a readable table and one dict of figures."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import json
import math
from typing import Any


@dataclass
class BenchResult:
    """A benchmark's outcome. ``figures`` is the flat JSON object; ``rows`` the table lines."""

    title: str
    figures: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        out = [self.title, '=' * len(self.title)]
        if self.rows:
            cols = list(dict.fromkeys(k for r in self.rows for k in r))
            cells = [[_fmt(r.get(c, '')) for c in cols] for r in self.rows]
            widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
            out.append('  '.join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
            out.append('  '.join('-' * w for w in widths))
            out.extend('  '.join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells)
            out.append('')
        width = max((len(k) for k in self.figures), default=0)
        out.extend(f'{k.ljust(width)}  {_fmt(v)}' for k, v in self.figures.items()
                   if not isinstance(v, (list, dict)))
        out.extend(self.notes)
        return '\n'.join(out)

    def json(self) -> str:
        """One JSON object; a figure that could not be measured (NaN, inf) is ``null``, as JSON has no NaN."""
        figures = {**self.figures, 'rows': self.rows} if self.rows and 'rows' not in self.figures else self.figures
        return json.dumps(_finite(figures), ensure_ascii=False, default=str, allow_nan=False)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f'{v:.3g}' if abs(v) < 0.01 and v != 0 else f'{v:.2f}'
    return str(v)

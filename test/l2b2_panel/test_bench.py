"""Smoke test of ``l2b2-bench panel`` with tiny sizes: it runs and reports the figures it promises."""
from __future__ import annotations

import math

from l2b2_panel.bench import run


def test_bench_panel_smoke():
    result = run(['--rounds', '2', '--deadman-rounds', '2', '--update-seconds', '0.5'])
    for key in ('estop_p50_ms', 'estop_p99_ms', 'deadman_stop_ms', 'update_hz', 'idle_update_hz'):
        assert key in result.figures and not math.isnan(result.figures[key])
    assert result.figures['estop_rounds'] == 2
    assert '"estop_p99_ms"' in result.json()

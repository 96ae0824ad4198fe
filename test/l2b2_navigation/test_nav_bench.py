"""The nav benchmark: its scoring, and a smoke run on one near target (numbers are printed, never gated)."""
from __future__ import annotations

import math

from l2b2_navigation.bench import TrackerScore, run


def test_tracker_score_matches_one_to_one_within_half_a_metre():
    score = TrackerScore()
    score.add([(0.0, 0.0), (5.0, 5.0)], [(0.1, 0.0), (2.0, 0.0)])
    score.add([], [(1.0, 1.0)])
    assert (score.true_positives, score.false_positives, score.false_negatives) == (1, 1, 2)
    assert math.isclose(score.precision, 0.5) and math.isclose(score.recall, 1 / 3)
    assert math.isclose(score.errors[0], 0.1)


def test_bench_smoke_one_target():
    result = run(['--targets', 'wc', '--plan-repeats', '1', '--no-return'])
    figures = result.figures
    for key in ('success_rate', 'path_ratio_max', 'plan_p50_ms', 'plan_p99_ms', 'sim_speed',
                'tracker_precision', 'tracker_recall', 'tracker_error_mean_m'):
        assert key in figures
    assert [row['target'] for row in result.rows] == ['wc']
    assert result.rows[0]['plan_p50_ms'] > 0 and result.rows[0]['sim_speed'] > 0
    assert figures['sim_speed'] > 0 and figures['plan_p50_ms'] > 0
    assert '"rows"' in result.json()

"""``l2b2-bench day --json``: the benchmark's keys (a contract) and their types."""
from __future__ import annotations

import json

import pytest

from l2b2_bringup.bench import AREAS, main
from l2b2_office.bench import run

CONTRACT = {'visitors_arrived': int, 'visitors_served': int, 'visitors_refused_low_battery': int, 'charges': int,
            'docked_after_close': bool, 'figures_match_truth': bool, 'alerts_raised': int, 'wall_s': float}


def test_day_is_a_bench_area():
    assert AREAS['day'] == 'l2b2_office.bench'


def test_bench_day_json(capsys):
    assert main(['day', '--json']) == 0
    out = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(out[-1])
    for key, kind in CONTRACT.items():
        assert key in figures, key
        assert type(figures[key]) is kind, key  # bool is not taken for int, nor int for bool
    assert figures['wall_s'] >= 0
    assert figures['visitors_arrived'] > 0
    assert figures['charges'] >= 1
    assert figures['docked_after_close'] is True
    assert figures['figures_match_truth'] is True
    for key in ('escorts', 'checkins', 'tickets', 'sim_hours', 'battery_min_percent', 'capacity_wh'):
        assert key in figures
    assert figures['date'] == '2026-12-07'
    # The readable table comes first and names the contract figures.
    table = '\n'.join(out[:-1])
    assert 'visitors_served' in table and 'charges' in table


def test_bench_day_options():
    result = run(['--date', '2026-12-25', '--seed', '3', '--capacity-wh', '80'])
    f = result.figures
    assert f['date'] == '2026-12-25' and f['seed'] == 3 and f['capacity_wh'] == 80.0
    assert f['visitors_served'] == 0 and f['docked_after_close'] is True
    assert json.loads(result.json())['figures_match_truth'] is True


@pytest.mark.parametrize('argv', [['--date', '7.12.2026'], ['--tick-s', '0']])
def test_bench_day_rejects_bad_options(argv):
    with pytest.raises(SystemExit):
        run(argv)

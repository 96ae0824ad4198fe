"""Smoke test of ``l2b2-bench e2e``: the real stack, one scripted visit, figures that add up."""
import json
import math

import pytest

from l2b2_bringup import bench_e2e
from l2b2_common.config import REPO_ROOT

from .stack_files import test_stack_file

pytestmark = pytest.mark.slow


def test_e2e_bench_plays_a_visit_and_reports_its_figures(tmp_path):
    stack, _ = test_stack_file(tmp_path)
    result = bench_e2e.run(['--stack', str(stack), '--scenarios', str(REPO_ROOT / 'scenarios' / 'touch_only_ticket.yaml'),
                            '--warmup-s', '1', '--idle-s', '3', '--results', str(tmp_path / 'results')])
    figures = json.loads(result.json())
    assert figures['scenarios'] == 1 and figures['scenario_success_rate'] == 1.0, result.table()
    assert figures['clean_shutdown'] is True, (tmp_path / 'results' / 'stack.log').read_text()[-3000:]
    assert figures['peak_pss_mb'] > 0 and figures['peak_rss_mb'] >= figures['peak_pss_mb']
    assert 'dialogue' in figures['peak_rss_by_process_mb']
    assert math.isfinite(figures['cpu_cores_used']) and figures['visitors_per_hour'] > 0
    # Idle CPU per process, and the robot's own share of it (not the simulated world, stand-in navigator
    # or appointment system); the whole run's CPU includes the visit, so it differs from the idle window's.
    by_process = figures['idle_cpu_by_process']
    assert {'escort', 'panel', 'dialogue', 'simulator', 'appointment_server'} <= set(by_process)
    robot = sum(c for name, c in by_process.items() if name not in bench_e2e.NOT_ROBOT_SIDE)
    assert figures['idle_cpu_robot_cores'] == pytest.approx(robot, abs=0.01)
    assert figures['idle_cpu_robot_cores'] <= sum(by_process.values()) + 0.01
    assert figures['cpu_cores_used'] != figures['cpu_cores_used_idle']
    assert (tmp_path / 'results' / 'report.html').exists()
    # Its own state beside the report (no earlier run's bookings, figures or users): the office's figures
    assert list((tmp_path / 'results' / 'state').glob('office_figures*'))

"""Smoke test of ``l2b2-bench queue`` at tiny sizes: it runs and reports every figure (numbers not judged)."""
from l2b2_queue_bridge.bench import run


def test_bench_quick_reports_all_figures():
    result = run(['--quick'])
    print('\n' + result.table())
    for key in ('lookup_p50_ms', 'lookup_p99_ms', 'tickets_per_s', 'tickets_unique', 'down_answer_ms',
                'login_ms', 'renewals', 'renewal_failures', 'bridge_lookup_errors'):
        assert key in result.figures
    assert result.figures['renewals'] >= 1, 'the short-session run renewed its session'
    assert result.figures['renewal_failures'] == 0 and result.figures['session_lookups_failed'] == 0
    assert result.figures['bridge_lookup_errors'] == 0
    assert result.figures['tickets_unique'] is True
    assert result.figures['lookup_p50_ms'] > 0
    assert '"tickets_unique": true' in result.json()

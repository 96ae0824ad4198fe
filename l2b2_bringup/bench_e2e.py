"""``l2b2-bench e2e``: whole visits through the whole simulated stack, and what one robot can serve.

Starts config/stack_sim.yaml, plays the scenarios (scenarios/*.yaml), and measures success per
scenario class, first word -> robot moving, speech end -> robot answering, visits one robot can serve
per hour, and CPU / peak memory of the whole stack. ``--soak-minutes N`` adds a robustness run:
visitors at random, nodes killed at random (the launcher restarts them), the appointment system
hanging and recovering. Writes an HTML report into results/.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
from pathlib import Path
import random
import statistics
import threading
import time

import psutil

from l2b2_bringup.scenario import load_scenarios
from l2b2_common.bench import BenchResult, percentile
from l2b2_common.config import REPO_ROOT, share_dir

#: Ludwigsburg's L2B2 met about 3,500 visitors a month: ~160 a day over ~8 opening hours.
LUDWIGSBURG_VISITORS_PER_HOUR = 160 / 8
#: Processes that are not the robot's software: the world (and its clock), the stand-in for Nav2 (which
#: on the robot is Nav2's own CPU) and the city's appointment system. Everything else is robot-side.
NOT_ROBOT_SIDE = frozenset({'simulator', 'sim_navigator', 'docking_server', 'appointment_server'})


def run(argv: list[str]) -> BenchResult:
    ap = argparse.ArgumentParser(prog='l2b2-bench e2e')
    ap.add_argument('--scenarios', nargs='*', default=None, help='scenario files or folders (default scenarios/)')
    ap.add_argument('--repeat', type=int, default=1, help='play every scenario this many times')
    ap.add_argument('--soak-minutes', type=float, default=0.0, help='robustness run of this many minutes')
    ap.add_argument('--warmup-s', type=float, default=20.0,
                    help='after the stack is up, wait this long before the idle window (models load, caches fill)')
    ap.add_argument('--idle-s', type=float, default=60.0,
                    help='idle CPU window: robot at home, nobody near, no visit (idle_cpu_* figures)')
    ap.add_argument('--stack', default='stack_sim.yaml')
    ap.add_argument('--building', default='', help="building to run in (default: the stack file's)")
    ap.add_argument('--results', default=None, help='report folder (default results/e2e-<time>)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--state-dir', default=None,
                    help="the stack's state (appointments, figures, panel users; default: <results>/state, "
                         "so that no earlier run or demo changes what this one finds)")
    args = ap.parse_args(argv)

    from l2b2_bringup.scenario_runner import ScenarioRunner
    from l2b2_bringup.sim_control import SimControl
    from l2b2_bringup.stack import load_stack
    from l2b2_bringup.stack_monitor import StackMonitor
    from l2b2_bringup.supervisor import Supervisor

    scenarios = load_scenarios(args.scenarios or [share_dir() / 'scenarios'])
    out_dir = Path(args.results or REPO_ROOT / 'results' / f'e2e-{dt.datetime.now():%Y%m%d-%H%M%S}')
    out_dir.mkdir(parents=True, exist_ok=True)
    log = open(out_dir / 'stack.log', 'w', encoding='utf-8')
    # A fresh state: a demo booking left by an earlier run (one seen was 24 minutes old) was too late to check in.
    state_dir = str(Path(args.state_dir) if args.state_dir else out_dir / 'state')
    stack = load_stack(args.stack, building=args.building)
    supervisor = Supervisor(stack, out=log, log=lambda line: log.write(line + '\n'),
                            extra_env={'L2B2_STATE_DIR': state_dir})
    stop = threading.Event()
    supervisor.start()

    def supervise():
        while not stop.wait(0.2):
            supervisor.poll()
    threading.Thread(target=supervise, daemon=True).start()
    monitor = StackMonitor(lambda: [(mp.spec.name, mp.pid) for mp in supervisor.procs if mp.running()]).start()
    runner = ScenarioRunner()
    runner.sim_control = SimControl(runner.node, building=stack.building)
    results, soak = [], {}
    try:
        missing = runner.wait_ready(180.0)
        if missing:
            raise RuntimeError(f'stack did not come up: {missing} (log: {out_dir / "stack.log"})')
        stop.wait(args.warmup_s)
        idle_from = time.monotonic()
        stop.wait(args.idle_s)
        idle_to = time.monotonic()
        idle_cores = monitor.cores_used(since=idle_from, until=idle_to)
        idle_by_process = monitor.cores_by_name(since=idle_from, until=idle_to)
        busy_from = time.monotonic()
        for _ in range(args.repeat):
            results.extend(runner.run(s) for s in scenarios)
        busy_cores = monitor.cores_used(since=busy_from)
        if args.soak_minutes > 0:
            soak = _soak(runner, supervisor, monitor, scenarios, args.soak_minutes * 60.0, random.Random(args.seed))
    finally:
        runner.close()
        stop.set()
        monitor.stop()
        codes = supervisor.stop()
        log.close()

    figures = _figures(results, monitor, busy_cores, soak, codes)
    figures.update(_idle_figures(idle_cores, idle_by_process))
    rows = [{'scenario': r.name, 'class': r.scenario_class, 'ok': 'PASS' if r.success else 'FAIL',
             'time_s': round(r.duration_s, 1),
             'word_to_move_s': round(r.first_word_to_moving_s, 1) if r.first_word_to_moving_s else '',
             'answer_ms': round(statistics.median(r.speech_end_to_answer_ms)) if r.speech_end_to_answer_ms else '',
             'failure': r.failure[:80]} for r in results]
    (out_dir / 'results.json').write_text(json.dumps({'figures': figures, 'rows': rows}, indent=2, default=str))
    _write_html(out_dir / 'report.html', figures, rows)
    return BenchResult('l2b2 end-to-end (simulated Bürgerbüro)', figures, rows,
                       notes=[f'report: {out_dir / "report.html"}'])


def _figures(results, monitor, busy_cores, soak, exit_codes) -> dict:
    ok = [r for r in results if r.success]
    by_class: dict[str, list] = {}
    for r in results:
        by_class.setdefault(r.scenario_class, []).append(r.success)
    moving = [r.first_word_to_moving_s for r in results if r.first_word_to_moving_s]
    answers = [ms for r in results for ms in r.speech_end_to_answer_ms]
    # A visit occupies the robot from the first word until it is back at its home spot, idle.
    busy = [r.duration_s for r in ok]
    per_hour = 3600.0 / statistics.mean(busy) if busy else 0.0
    figures = {
        'scenarios': len(results),
        'scenario_success_rate': round(len(ok) / len(results), 4) if results else 0.0,
        **{f'success_{k}': round(sum(v) / len(v), 3) for k, v in sorted(by_class.items())},
        'visitors_per_hour': round(per_hour, 1),
        'ludwigsburg_visitors_per_hour': LUDWIGSBURG_VISITORS_PER_HOUR,
        'first_word_to_moving_s_p50': round(percentile(moving, 50), 2) if moving else None,
        'first_word_to_moving_s_p95': round(percentile(moving, 95), 2) if moving else None,
        'speech_end_to_answer_ms_p50': round(percentile(answers, 50), 1) if answers else None,
        'speech_end_to_answer_ms_p95': round(percentile(answers, 95), 1) if answers else None,
        'peak_rss_mb': round(monitor.peak_rss_mb, 1),
        'peak_pss_mb': round(monitor.peak_pss_mb, 1),
        'peak_rss_by_process_mb': {name: round(mb) for name, mb in sorted(
            monitor.peak_rss_by_name.items(), key=lambda item: -item[1])},
        # The whole run, from the first sample to the last (start-up, idle window, visits, soak).
        'cpu_cores_used': round(monitor.cores_used(), 3),
        'cpu_cores_used_busy': round(busy_cores, 3),
        'cpu_cores_total': psutil.cpu_count(),
        'clean_shutdown': all(code in (0, -2) for code in exit_codes.values()),
    }
    figures.update(soak)
    return figures


def _idle_figures(idle_cores: float, by_process: dict[str, float]) -> dict:
    """CPU with the robot at home, nobody near, after warm-up: the whole stack, the robot's own software
    (every node but the simulated world, the stand-in navigator and the appointment system), per process."""
    return {
        'cpu_cores_used_idle': round(idle_cores, 3),
        'idle_cpu_robot_cores': round(sum(c for name, c in by_process.items() if name not in NOT_ROBOT_SIDE), 3),
        'idle_cpu_by_process': {name: round(c, 3) for name, c in sorted(by_process.items(), key=lambda i: -i[1])},
    }


def _soak(runner, supervisor, monitor, scenarios, seconds, rng) -> dict:
    """Visitors arrive at random; nodes die at random and must come back; the appointment system hangs.

    Visits during an outage play scenarios written for a working appointment system: they must still
    be answered (the robot says it cannot reach the system), but their scripted check-in cannot pass,
    so they are counted apart from the other visits.
    """
    from l2b2_bringup.scenario_runner import _signal_appointment_system
    start = time.monotonic()
    kills, recovered, outages = 0, 0, 0
    visits: list[tuple[object, bool]] = []  # (result, during an outage)
    # The robot's software dies at random; the simulator is the world (and its clock), not the robot.
    killable = [mp for mp in supervisor.procs if mp.spec.ros and mp.spec.name != 'simulator']
    queue_visits = [s for s in scenarios if s.scenario_class in ('checkin', 'ticket', 'touch', 'queue_down')]
    next_kill = start + rng.uniform(30, 90)
    next_outage = start + rng.uniform(60, 180)
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        if now >= next_kill:
            victim = rng.choice(killable)
            restarts = victim.restarts
            try:
                psutil.Process(victim.pid).kill()
                kills += 1
            except (psutil.Error, TypeError):
                pass
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (victim.restarts > restarts and victim.running()):
                time.sleep(0.1)
            ready = runner.wait_ready(60.0) == ''
            recovered += int(victim.restarts > restarts and victim.running() and ready)
            next_kill = time.monotonic() + rng.uniform(60, 180)
        if now >= next_outage:
            _signal_appointment_system('stop')
            outages += 1
            visits.append((runner.run(rng.choice(queue_visits or scenarios)), True))
            _signal_appointment_system('continue')
            next_outage = time.monotonic() + rng.uniform(120, 300)
            continue
        time.sleep(rng.expovariate(1 / 20.0) if visits else 0)  # random arrivals, mean gap 20 s
        visits.append((runner.run(rng.choice(scenarios)), False))
    end = time.monotonic()
    normal = [r for r, outage in visits if not outage]
    during = [r for r, outage in visits if outage]
    # Memory level after warm-up (minutes 2-7) against the last five minutes.
    pss_start = monitor.pss_mb_between(start + 120, start + 420)
    pss_end = monitor.pss_mb_between(end - 300, end)
    return {
        'soak_minutes': round((end - start) / 60.0, 1),
        'soak_visits': len(visits),
        'soak_visits_answered': sum(bool(r.robot_said) for r, _ in visits),
        'soak_visit_success_rate': round(sum(r.success for r in normal) / len(normal), 4) if normal else None,
        'soak_outage_visits': len(during),
        'soak_outage_visits_answered': sum(bool(r.robot_said) for r in during),
        'soak_failures': [f'{r.name}{" (outage)" if outage else ""}: {r.failure[:100]}'
                          for r, outage in visits if not r.success],
        'soak_node_kills': kills,
        'soak_node_recoveries': recovered,
        'soak_appointment_outages': outages,
        'soak_pss_start_mb': round(pss_start, 1) if pss_start else None,
        'soak_pss_end_mb': round(pss_end, 1) if pss_end else None,
    }


def _write_html(path: Path, figures: dict, rows: list[dict]) -> None:
    def bar(value, scale, color):
        width = max(0, min(300, int(300 * value / scale))) if scale else 0
        return f'<svg width="310" height="14"><rect width="{width}" height="12" fill="{color}"/></svg>'
    fig_rows = ''.join(f'<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>' for k, v in figures.items())
    longest = max((r['time_s'] for r in rows), default=1) or 1
    scen_rows = ''.join(
        f'<tr><td>{html.escape(r["scenario"])}</td><td>{r["class"]}</td><td>{r["ok"]}</td>'
        f'<td>{r["time_s"]} {bar(r["time_s"], longest, "#2a7" if r["ok"] == "PASS" else "#c33")}</td>'
        f'<td>{r["word_to_move_s"]}</td><td>{r["answer_ms"]}</td><td>{html.escape(r["failure"])}</td></tr>'
        for r in rows)
    path.write_text(f'''<!doctype html><meta charset="utf-8"><title>l2b2 end-to-end report</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;border-bottom:1px solid #ddd}}</style>
<h1>l2b2 end-to-end report</h1><p>{dt.datetime.now():%Y-%m-%d %H:%M}</p>
<h2>Figures</h2><table>{fig_rows}</table>
<h2>Scenarios</h2><table><tr><th>scenario</th><th>class</th><th>result</th><th>time (s)</th>
<th>first word → moving (s)</th><th>speech end → answer (ms)</th><th>failure</th></tr>{scen_rows}</table>
''', encoding='utf-8')

"""``l2b2-scenarios [PATH ...]``: play scripted visits against the running stack; non-zero exit on failure.

    l2b2-scenarios                       # every scenario in scenarios/, against a running stack
    l2b2-scenarios --launch              # start the simulated stack first, stop it afterwards
    l2b2-scenarios scenarios/de_toilet.yaml --json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import tempfile
import threading

from l2b2_bringup.scenario import load_scenarios
from l2b2_common.config import ConfigError, share_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-scenarios', description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('paths', nargs='*', help='scenario files or folders (default: scenarios/)')
    parser.add_argument('--launch', action='store_true', help='start the stack (config/stack_sim.yaml) for the run')
    parser.add_argument('--stack', default='stack_sim.yaml', help='stack description used with --launch')
    parser.add_argument('--building', default='',
                        help="the running stack's building (with --launch: the one to start it in); default: "
                             "the stack file's")
    parser.add_argument('--json', action='store_true', help='print one JSON object of results last')
    args = parser.parse_args(argv)
    try:
        scenarios = load_scenarios(args.paths or [share_dir() / 'scenarios'])
    except ConfigError as exc:
        print(f'l2b2-scenarios: {exc}', file=sys.stderr)
        return 2
    results = run_scenarios(scenarios, launch_stack=args.stack if args.launch else None,
                            building=args.building or _stack_building(args.stack))
    width = max(len(r.name) for r in results) if results else 10
    for r in results:
        mark = 'PASS' if r.success else 'FAIL'
        extra = f'  first word->moving {r.first_word_to_moving_s:.1f} s' if r.first_word_to_moving_s else ''
        print(f'{mark}  {r.name.ljust(width)}  {r.duration_s:6.1f} s{extra}  {r.failure}')
    passed = sum(r.success for r in results)
    print(f'scenarios: {passed} passed, {len(results) - passed} failed')
    if args.json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False))
    return 0 if results and passed == len(results) else 1


def _stack_building(stack_file: str) -> str:
    from l2b2_bringup.stack import load_stack
    return load_stack(stack_file).building


def run_scenarios(scenarios, launch_stack: str | None = None, log_dir: Path | None = None, ready_timeout=120.0,
                  building: str = ''):
    """Run scenarios in order (optionally inside a stack this call starts and stops) in ``building``."""
    from l2b2_bringup.scenario_runner import ScenarioResult, ScenarioRunner
    from l2b2_bringup.sim_control import SimControl

    supervisor = None
    stop = threading.Event()
    if launch_stack:
        from l2b2_bringup.stack import load_stack
        from l2b2_bringup.supervisor import Supervisor
        log_dir = log_dir or Path(tempfile.mkdtemp(prefix='l2b2-scenarios-'))
        log_file = open(log_dir / 'stack.log', 'w', encoding='utf-8')
        supervisor = Supervisor(load_stack(launch_stack, building=building), out=log_file, log=lambda line: log_file.write(line + '\n'))
        supervisor.start()

        def supervise():
            while not stop.wait(0.2):
                supervisor.poll()
        threading.Thread(target=supervise, daemon=True).start()
    runner = ScenarioRunner()
    try:
        runner.sim_control = SimControl(runner.node, building=building)
        missing = runner.wait_ready(ready_timeout)
        if missing:
            return [ScenarioResult(s.name, s.scenario_class, False, 0.0, missing) for s in scenarios]
        return [runner.run(s) for s in scenarios]
    finally:
        runner.close()
        if supervisor:
            stop.set()
            supervisor.stop()
            log_file.close()


if __name__ == '__main__':
    sys.exit(main())

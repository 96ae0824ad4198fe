"""``l2b2-launch [STACK]``: start the robot's software from a stack description and keep it running.

Without ``ros2 launch`` on this platform, this is the launcher: it starts every node of the stack
(config/stack_sim.yaml by default), restarts crashed ones with back-off, and on Ctrl-C stops them all.
"""
from __future__ import annotations

import argparse
import sys
import time

from l2b2_bringup.stack import load_stack
from l2b2_bringup.supervisor import Supervisor
from l2b2_common.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-launch', description=__doc__.splitlines()[0])
    parser.add_argument('stack', nargs='?', default='stack_sim.yaml',
                        help='stack description: a path, or a file name under config/ (default: stack_sim.yaml)')
    parser.add_argument('--exclude', action='append', default=[], metavar='NODE',
                        help='leave this node out (repeatable), e.g. to run it in a debugger')
    parser.add_argument('--building', default='', metavar='NAME',
                        help="the building (maps/NAME.yaml, its waypoints and worlds) for every node that reads one "
                             "(default: the stack file's `building`, else buergerbuero)")
    parser.add_argument('--print', action='store_true', help='print the command lines and exit')
    args = parser.parse_args(argv)
    try:
        stack = load_stack(args.stack, building=args.building).without(set(args.exclude))
    except ConfigError as exc:
        print(f'l2b2-launch: {exc}', file=sys.stderr)
        return 2
    if args.print:
        for node in stack.nodes:  # inline parameters shown as -p (the launcher writes them to a file)
            print(' '.join(node.command()))
        return 0
    supervisor = Supervisor(stack)
    banner_shown = []

    def show_banner() -> bool:
        # Once every process has been up for a few seconds, say where to open things.
        settled = all(mp.running() and time.monotonic() - mp.started_at > 3.0 for mp in supervisor.procs)
        if stack.banner and not banner_shown and settled:
            banner_shown.append(True)
            print(stack.banner.rstrip(), flush=True)
        return False

    print(f'[l2b2-launch] stack "{stack.name}" in building "{stack.building}": {len(stack.nodes)} processes; '
          'Ctrl-C stops them all', flush=True)
    supervisor.run(until=show_banner)
    return 0


if __name__ == '__main__':
    sys.exit(main())

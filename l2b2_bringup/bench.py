"""``l2b2-bench <area> [--json] [area options]``: one entry point for every area's benchmark.

Each area module exposes ``run(argv: list[str]) -> BenchResult``. The table goes to stdout; with
``--json`` the last line of stdout is one JSON object of figures.
"""
from __future__ import annotations

import argparse
import importlib
import sys

AREAS = {
    'dialogue': 'l2b2_dialogue.bench',
    'speech': 'l2b2_speech.bench',
    'queue': 'l2b2_queue_bridge.bench',
    'panel': 'l2b2_panel.bench',
    'nav': 'l2b2_navigation.bench',
    'e2e': 'l2b2_bringup.bench_e2e',
    'day': 'l2b2_office.bench',
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-bench', description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('area', choices=sorted(AREAS), help='which part of the product to measure')
    parser.add_argument('--json', action='store_true', help='print one JSON object of figures last')
    args, rest = parser.parse_known_args(argv)
    module = importlib.import_module(AREAS[args.area])
    result = module.run(rest)
    print(result.table(), flush=True)
    if args.json:
        print(result.json(), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

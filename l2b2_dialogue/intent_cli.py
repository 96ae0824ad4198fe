"""``l2b2-intent [--lang de|tr|auto] TEXT`` — what the robot understands, as one JSON object per utterance.

With ``-`` instead of TEXT it reads one utterance per line from stdin and prints one JSON line each.
"""
from __future__ import annotations

import argparse
import json
import sys

from l2b2_common.config import ConfigError
from l2b2_dialogue.nlu import Understander


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-intent', description=__doc__.splitlines()[0])
    parser.add_argument('--lang', choices=('de', 'tr', 'auto'), default='auto',
                        help='language of the text (auto: detect it)')
    parser.add_argument('--threshold', type=float, default=0.6, help='confidence threshold for the target')
    parser.add_argument('--candidates', action='store_true', help='also print the best candidate targets')
    parser.add_argument('text', nargs='+', help='the utterance, or - to read one per line from stdin')
    args = parser.parse_args(argv)
    try:
        nlu = Understander(threshold=args.threshold)
    except ConfigError as exc:
        print(f'l2b2-intent: {exc}', file=sys.stderr)
        return 2
    language = '' if args.lang == 'auto' else args.lang
    lines = sys.stdin if args.text == ['-'] else [' '.join(args.text)]
    for line in lines:
        line = line.rstrip('\n')
        if args.text == ['-'] and not line.strip():
            continue
        result = nlu.understand(line, language).as_dict()
        if not args.candidates:
            result.pop('candidates')
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

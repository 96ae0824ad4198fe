"""``l2b2-intent [--lang de|tr|en|auto] TEXT`` — what the robot understands, as one JSON object per utterance.

With ``-`` instead of TEXT it reads one utterance per line from stdin and prints one JSON line each.
The object has ``intent``, ``target``, ``confidence``, ``language``, ``slots`` and ``source`` (rules,
learned or both), and ``clarify: [first, second]`` when the robot would ask between two places. Input
it cannot fully use still gets an answer, with ``notes`` saying why (nothing said, cut to the length
limit, unreadable bytes, letters of a script it does not read).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import unicodedata

from l2b2_common.catalog import LANGUAGES
from l2b2_common.config import ConfigError
from l2b2_dialogue.nlu import Understander
from l2b2_dialogue.normalize import MAX_CHARS, Utterance

_READ_SCRIPTS = ('LATIN',)


def input_notes(text: str) -> list[str]:
    """Why the understanding may not use all of ``text`` (empty when it can)."""
    notes = []
    if not Utterance(text).says_something:
        notes.append('nothing said: no letter or digit')
    if len(text) > MAX_CHARS:
        notes.append(f'long input: only the first {MAX_CHARS} characters are read')
    if '\ufffd' in text or any(unicodedata.category(ch) == 'Cc' and ch not in '\t' for ch in text):
        notes.append('not plain text: unreadable bytes or control characters are ignored')
    scripts = sorted({unicodedata.name(ch, 'UNKNOWN').split()[0] for ch in text
                      if ch.isalpha() and not unicodedata.name(ch, 'UNKNOWN').startswith(_READ_SCRIPTS)})
    if scripts:
        notes.append(f'letters of a script the robot does not read ({", ".join(scripts).lower()}) are ignored')
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-intent', description=__doc__.splitlines()[0])
    parser.add_argument('--lang', choices=(*LANGUAGES, 'auto'), default='auto',
                        help='language of the text (auto: detect it among ' + ', '.join(LANGUAGES) + ')')
    parser.add_argument('--threshold', type=float, default=0.6, help='confidence threshold for the target')
    parser.add_argument('--candidates', action='store_true', help='also print the best candidate targets')
    parser.add_argument('--rules-only', action='store_true', help='without the learned layer (for comparison)')
    parser.add_argument('text', nargs='+', help='the utterance, or - to read one per line from stdin')
    args = parser.parse_args(argv)
    try:
        nlu = Understander(threshold=args.threshold, learned=not args.rules_only)
    except ConfigError as exc:
        print(f'l2b2-intent: {exc}', file=sys.stderr)
        return 2
    language = '' if args.lang == 'auto' else args.lang
    if args.text == ['-']:
        # Binary on stdin is an answer too ("not plain text"), never a UnicodeDecodeError.
        stream = sys.stdin
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors='replace')
        lines = (line.rstrip('\n') for line in stream if line.strip())
    else:
        lines = iter([' '.join(args.text)])
    for line in lines:
        result = nlu.understand(line, language).as_dict()
        if not args.candidates:
            result.pop('candidates')
        notes = input_notes(line)
        if notes:
            result['notes'] = notes
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

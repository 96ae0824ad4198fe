"""``l2b2-figures-report``: the office's figures from the robot's SQLite file, for the city's reports.

``l2b2-figures-report [--db PATH] month 2026-12 [--json]``
    the monthly summary (visitors greeted, conversations, languages, ... median answer time);
``l2b2-figures-report [--db PATH] csv --period day --from 2026-12-01 --to 2026-12-31``
    one CSV row per hour, day or month on stdout (dates included).

The file is opened read-only (the node may be writing it). A missing file, a file that is no figures
database and a bad date are one clear line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
from datetime import datetime
import json
import sys
from zoneinfo import ZoneInfoNotFoundError

from l2b2_office.figures import DEFAULT_TIMEZONE, PERIODS, FiguresError, FiguresStore, default_database

EXIT_USAGE = 2
PROG = 'l2b2-figures-report'

_LABELS = (('visitors_greeted', 'Visitors greeted'), ('conversations', 'Conversations'),
           ('checkins', 'Check-ins'), ('tickets', 'Waiting numbers drawn'), ('not_understood', 'Not understood'),
           ('answers', 'Answers timed'), ('median_answer_ms', 'Median answer time (ms)'),
           ('days_with_visitors', 'Days with visitors'))
_GROUPS = (('escorts', 'Escorts'), ('languages', 'Languages'), ('intents', 'Asked for'),
           ('departments', 'Departments'), ('alerts', 'Staff alerts'))


class UsageError(ValueError):
    pass


def _parse(text: str, fmt: str, what: str) -> datetime:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        shown = fmt.replace('%Y', 'YYYY').replace('%m', 'MM').replace('%d', 'DD')
        raise UsageError(f'{what} "{text[:20]}" is not a date {shown}') from None


def month_table(summary: dict) -> str:
    """The monthly summary as aligned text lines."""
    lines = [f'Office figures {summary["month"]}']
    for key, title in _LABELS:
        value = summary[key]
        lines.append(f'  {title:<28}{"-" if value is None else value:>8}')
    for key, title in _GROUPS:
        values = summary[key]
        lines.append(f'  {title}:' + ('' if values else ' -'))
        for label, n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f'    {label:<26}{n:>8}')
    return '\n'.join(lines) + '\n'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description='The office\'s figures (counts only) from the '
                                     'robot\'s figures database.')
    parser.add_argument('--db', default=None, help=f'figures database (default: {default_database()})')
    parser.add_argument('--timezone', default=DEFAULT_TIMEZONE, help='office time zone (default %(default)s)')
    sub = parser.add_subparsers(dest='command', required=True)
    month = sub.add_parser('month', help='monthly summary, e.g. "month 2026-12"')
    month.add_argument('month', help='YYYY-MM')
    month.add_argument('--json', action='store_true', help='print JSON instead of a table')
    csv = sub.add_parser('csv', help='CSV per hour, day or month on stdout')
    csv.add_argument('--period', choices=PERIODS, default='day')
    csv.add_argument('--from', dest='start', required=True, help='first day, YYYY-MM-DD')
    csv.add_argument('--to', dest='end', required=True, help='last day (included), YYYY-MM-DD')
    return parser


def run(args: argparse.Namespace) -> str:
    if args.command == 'month':
        when = _parse(args.month, '%Y-%m', 'month')
        start = end = None
    else:
        start = _parse(args.start, '%Y-%m-%d', '--from').date()
        end = _parse(args.end, '%Y-%m-%d', '--to').date()
        if end < start:
            raise UsageError(f'--to {end} is before --from {start}')
    path = args.db or default_database()
    try:
        store = FiguresStore(path, timezone=args.timezone, readonly=True)
    except (ZoneInfoNotFoundError, ValueError):  # FiguresError (no ValueError) passes through
        raise UsageError(f'unknown time zone "{args.timezone[:40]}"') from None
    with store:
        if args.command == 'month':
            summary = store.month_summary(when.year, when.month)
            return json.dumps(summary, indent=2) + '\n' if args.json else month_table(summary)
        return store.to_csv(args.period, start, end)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        text = run(args)
    except (UsageError, FiguresError) as exc:
        print(f'{PROG}: error: {exc}', file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())


"""The office's figures on the staff page (issue 16): read-only routes over the figures database.

- ``GET /api/figures?period=hour|day|month&start=YYYY-MM-DD&end=YYYY-MM-DD``: one row per period
  (``end`` defaults to ``start``; both included), as ``FiguresStore.summary``;
- ``GET /api/figures/month?year=YYYY&month=M``: the month as a city reports it (``month_summary``);
- ``GET /api/figures.csv?period=...&start=...&end=...``: the rows as a CSV attachment (``to_csv``).

Staff only (the session check of the other staff routes: 401 without a session, 403 for observers). The
file is opened read-only for each request in a worker thread, so the event loop never waits on SQLite and
the figures node keeps writing meanwhile (WAL journal: a reader sees the last committed counts). No
database yet: the same answers from an empty store in memory (zeros), with ``"available": false``. A bad
query value is a 400 naming it; a file that is no figures database a 503 naming the file.

Counts only: the store holds no visitor data, and these routes add none.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
import re
from typing import Any

from aiohttp import web

from l2b2_office.figures import MEMORY, PERIODS, FiguresError, FiguresStore

#: The longest range one request may ask for, per period (a month of hours, a year of days, ten years of months).
MAX_DAYS = {'hour': 31, 'day': 366, 'month': 3660}
_DATE = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
_YEAR = re.compile(r'^[0-9]{4}$')
_MONTH = re.compile(r'^[0-9]{1,2}$')
FIRST_YEAR, LAST_YEAR = 2000, 2999


class BadQuery(ValueError):
    """A query value the routes do not accept; the message says which and what is expected."""


def _day(query: dict[str, str], key: str, default: date | None = None) -> date:
    text = query.get(key)
    if text is None or text == '':
        if default is None:
            raise BadQuery(f'{key} is missing (a date YYYY-MM-DD)')
        return default
    try:
        if not _DATE.match(text):
            raise ValueError
        return datetime.strptime(text, '%Y-%m-%d').date()
    except ValueError:
        raise BadQuery(f'{key} "{text[:20]}" is not a date YYYY-MM-DD') from None


def parse_range(query: dict[str, str]) -> tuple[str, date, date]:
    """``period``, ``start`` and ``end`` of a rows or CSV request (raises BadQuery)."""
    period = query.get('period') or 'day'
    if period not in PERIODS:
        raise BadQuery(f'period "{period[:20]}" is not one of {", ".join(PERIODS)}')
    start = _day(query, 'start')
    end = _day(query, 'end', start)
    if end < start:
        raise BadQuery(f'end {end} is before start {start}')
    if (end - start).days + 1 > MAX_DAYS[period]:
        raise BadQuery(f'end {end} is {(end - start).days + 1} days from start {start}: at most {MAX_DAYS[period]} '
                       f'per request for period {period}')
    return period, start, end


def parse_month(query: dict[str, str]) -> tuple[int, int]:
    """``year`` and ``month`` of a month request (raises BadQuery)."""
    year, month = query.get('year', ''), query.get('month', '')
    if not _YEAR.match(year) or not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise BadQuery(f'year "{year[:20]}" is not a year {FIRST_YEAR}..{LAST_YEAR}')
    if not _MONTH.match(month) or not 1 <= int(month) <= 12:
        raise BadQuery(f'month "{month[:20]}" is not a month 1..12')
    return int(year), int(month)


class FiguresRoutes:
    """The figures routes of the panel's web app; ``staff_only(request)`` is its session check (None: allowed)."""

    def __init__(self, database: Path, staff_only: Callable[[web.Request], web.Response | None]):
        self.database = Path(database)
        self.staff_only = staff_only

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get('/api/figures', self._rows)
        router.add_get('/api/figures/month', self._month)
        router.add_get('/api/figures.csv', self._csv)

    def read(self, fn: Callable[[FiguresStore], Any]) -> tuple[bool, Any]:
        """Blocking: ``fn`` on the database opened read-only, or on an empty store if there is none yet."""
        try:
            available = self.database.is_file() and self.database.stat().st_size > 0
        except OSError:
            available = False
        with FiguresStore(self.database if available else MEMORY, readonly=available) as store:
            return available, fn(store)

    async def _answer(self, request: web.Request, parse: Callable[[dict[str, str]], tuple],
                      fn: Callable[..., Any], respond: Callable[[bool, Any, tuple], web.StreamResponse]):
        refused = self.staff_only(request)
        if refused is not None:
            return refused
        try:
            args = parse(dict(request.query))
        except BadQuery as exc:
            return web.json_response({'error': str(exc)}, status=400)
        try:
            available, result = await asyncio.to_thread(self.read, lambda store: fn(store, *args))
        except FiguresError as exc:
            return web.json_response({'error': f'figures unavailable: {exc}'}, status=503)
        return respond(available, result, args)

    async def _rows(self, request: web.Request) -> web.StreamResponse:
        def respond(available: bool, rows: list, args: tuple) -> web.Response:
            period, start, end = args
            columns = list(rows[0].counts) if rows else []
            return web.json_response({'period': period, 'start': f'{start}', 'end': f'{end}', 'available': available,
                                      'columns': columns, 'rows': [asdict(r) for r in rows]})
        return await self._answer(request, parse_range, FiguresStore.summary, respond)

    async def _month(self, request: web.Request) -> web.StreamResponse:
        def respond(available: bool, summary: dict, args: tuple) -> web.Response:
            return web.json_response({'available': available, 'summary': summary})
        return await self._answer(request, parse_month, FiguresStore.month_summary, respond)

    async def _csv(self, request: web.Request) -> web.StreamResponse:
        def respond(available: bool, text: str, args: tuple) -> web.Response:
            period, start, end = args
            name = f'l2b2-figures-{period}-{start}' + ('' if end == start else f'-{end}') + '.csv'
            return web.Response(text=text, content_type='text/csv', charset='utf-8',
                                headers={'Content-Disposition': f'attachment; filename="{name}"'})
        return await self._answer(request, parse_range, FiguresStore.to_csv, respond)

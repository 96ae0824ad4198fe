"""``l2b2-bench day``: a simulated office day, opening to closing, through the real day cycle, battery, alerts
and figures (:mod:`l2b2_office.day_sim`), in sim time as fast as the computer goes.

Figures: ``visitors_arrived``, ``visitors_served``, ``visitors_refused_low_battery``, ``charges`` (dockings the
battery asked for), ``docked_after_close``, ``figures_match_truth`` (the SQLite figures equal the simulation's own
counts), ``alerts_raised``, ``wall_s``, and more (escorts, check-ins, tickets, battery minimum, ...). The battery is
the benchmark's (``--capacity-wh``, default 100 Wh, stated as ``capacity_wh``) so that the day needs a charge.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import date
import time

from l2b2_common.bench import BenchResult
from l2b2_office.day_model import BENCH_CAPACITY_WH, DEFAULT_DATE, DaySettings
from l2b2_office.day_sim import simulate


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a date (YYYY-MM-DD)') from None


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench day', description=__doc__.splitlines()[0])
    parser.add_argument('--date', type=_date, default=DEFAULT_DATE,
                        help=f'the office day (YYYY-MM-DD; default {DEFAULT_DATE}, a normal Monday)')
    parser.add_argument('--seed', type=int, default=1, help='random seed: the same seed plays the same day')
    parser.add_argument('--capacity-wh', type=float, default=BENCH_CAPACITY_WH,
                        help=f'battery capacity (Wh; default {BENCH_CAPACITY_WH:g}, small enough to need a '
                             'charge; 0: config/office.yaml\'s)')
    parser.add_argument('--visitors-per-month', type=float, default=3500.0,
                        help='visitors a month (Ludwigsburg: about 3,500), spread over 21 opening days')
    parser.add_argument('--initial-percent', type=float, default=100.0, help='battery charge at the start (%%)')
    parser.add_argument('--tick-s', type=float, default=1.0, help='the office node\'s tick (sim s)')
    parser.add_argument('--database', default=None, help='keep the figures in this SQLite file (default: temporary)')
    opts = parser.parse_args(argv)
    if opts.capacity_wh < 0 or not 0 <= opts.initial_percent <= 100 or opts.tick_s <= 0 \
            or opts.visitors_per_month < 0:
        parser.error('--capacity-wh, --visitors-per-month must be >= 0, --initial-percent 0..100, --tick-s > 0')
    settings = DaySettings(day=opts.date, seed=opts.seed, capacity_wh=opts.capacity_wh or None,
                           initial_percent=opts.initial_percent, tick_s=opts.tick_s, database=opts.database)
    settings = replace(settings, visitors=replace(settings.visitors, visitors_per_month=opts.visitors_per_month))
    started = time.perf_counter()
    day = simulate(settings)
    wall_s = time.perf_counter() - started
    figures = {**day.figures, 'wall_s': round(wall_s, 3),
               'real_time_factor': round(day.figures['sim_hours'] * 3600.0 / wall_s) if wall_s > 0 else None,
               'figures_mismatches': day.mismatches}
    notes = [f'battery {figures["capacity_wh"]:g} Wh (the benchmark\'s; config/office.yaml has its own), '
             f'opening {", ".join(figures["opening"]) or "none (holiday or closed day)"}',
             'served: conversations finished (escorts refused for the battery get directions on the screen)']
    if day.mismatches:
        notes.append('figures differ from the truth in: ' + ', '.join(day.mismatches))
    return BenchResult(title=f'l2b2-bench day: the office day {day.figures["date"]} (seed {opts.seed})',
                       figures=figures, rows=day.hours, notes=notes)

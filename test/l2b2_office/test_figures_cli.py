"""``l2b2-figures-report``: monthly summary and CSV from a real figures file; clear errors, exit code 2."""
from __future__ import annotations

import csv
from datetime import datetime
import io
import json
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from l2b2_office.figures import FiguresStore
from l2b2_office.figures_cli import main

BERLIN = ZoneInfo('Europe/Berlin')


@pytest.fixture
def db(tmp_path):
    path = tmp_path / 'figures.sqlite'
    with FiguresStore(path, departments=('meldestelle',)) as store:
        for day, n in ((1, 4), (2, 2), (31, 1)):
            at = datetime(2026, 12, day, 10, 15, tzinfo=BERLIN)
            store.add('greeted', at=at, n=n + 1)
            store.add('conversations', at=at, n=n)
            store.add('language', 'tr', at=at, n=n)
            store.add('department', 'meldestelle', at=at)
            store.add('escort', 'visitor_lost', at=at)
            store.add_answer_time(900, at=at)
        store.add('greeted', at=datetime(2027, 1, 1, 9, tzinfo=BERLIN), n=100)
    return path


def test_month_as_json_and_table(db, capsys):
    assert main(['--db', str(db), 'month', '2026-12', '--json']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['month'] == '2026-12' and summary['visitors_greeted'] == 10 and summary['conversations'] == 7
    assert summary['languages'] == {'tr': 7} and summary['escorts']['visitor_lost'] == 3
    assert summary['median_answer_ms'] == 875 and summary['days_with_visitors'] == 3

    assert main(['--db', str(db), 'month', '2026-12']) == 0
    table = capsys.readouterr().out
    assert 'Office figures 2026-12' in table
    assert any(line.split()[:2] == ['Visitors', 'greeted'] and line.split()[-1] == '10' for line in table.splitlines())
    assert 'meldestelle' in table and 'visitor_lost' in table


def test_csv_per_day_adds_up_to_the_month(db, capsys):
    assert main(['--db', str(db), 'csv', '--period', 'day', '--from', '2026-12-01', '--to', '2026-12-31']) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 31 and rows[0]['day'] == '2026-12-01' and rows[-1]['day'] == '2026-12-31'
    assert sum(int(r['greeted']) for r in rows) == 10
    assert main(['--db', str(db), 'csv', '--period', 'month', '--from', '2026-12-01', '--to', '2027-01-31']) == 0
    months = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(m['month'], m['greeted']) for m in months] == [('2026-12', '10'), ('2027-01', '100')]


@pytest.mark.parametrize('args, message', [
    (['month', '2026-13'], 'is not a date YYYY-MM'),
    (['month', 'december'], 'is not a date YYYY-MM'),
    (['csv', '--from', '2026-12-01', '--to', '2026-12-32'], 'is not a date YYYY-MM-DD'),
    (['csv', '--from', '2026-12-31', '--to', '2026-12-01'], 'is before'),
    (['--timezone', 'Mars/Olympus', 'month', '2026-12'], 'unknown time zone'),
])
def test_bad_dates_exit_2(db, capsys, args, message):
    assert main(['--db', str(db), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith('l2b2-figures-report: error:') and message in err and len(err.splitlines()) == 1


def test_missing_and_corrupt_databases_exit_2(tmp_path, capsys):
    missing = tmp_path / 'nothing.sqlite'
    assert main(['--db', str(missing), 'month', '2026-12']) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and 'not found' in err and not missing.exists()
    corrupt = tmp_path / 'corrupt.sqlite'
    corrupt.write_bytes(b'garbage' * 1000)
    assert main(['--db', str(corrupt), 'csv', '--from', '2026-12-01', '--to', '2026-12-02']) == 2
    assert str(corrupt) in capsys.readouterr().err


def test_runs_as_a_command(db):
    done = subprocess.run([sys.executable, '-m', 'l2b2_office.figures_cli', '--db', str(db), 'month', '2026-12',
                           '--json'], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)['visitors_greeted'] == 10
    bad = subprocess.run([sys.executable, '-m', 'l2b2_office.figures_cli', 'bogus'], capture_output=True, text=True,
                         timeout=60, check=False)
    assert bad.returncode == 2 and 'usage' in bad.stderr

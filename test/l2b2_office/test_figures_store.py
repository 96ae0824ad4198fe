"""The figures store: counts per local hour in a real SQLite file, closed vocabulary, sums that add up."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import sqlite3
import threading
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
import pytest

from l2b2_dialogue.nlu import INTENTS as NLU_INTENTS
from l2b2_office.figures import (
    ALERT_KINDS,
    INTENTS,
    SCHEMA_VERSION,
    FiguresCollector,
    FiguresError,
    FiguresStore,
    bucket_of,
    median_ms,
)

BERLIN = ZoneInfo('Europe/Berlin')
DEPARTMENTS = ('meldestelle', 'pass_ausweis', 'info', 'wartebereich')


@pytest.fixture
def store(tmp_path):
    with FiguresStore(tmp_path / 'figures.sqlite', departments=DEPARTMENTS) as s:
        yield s


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def test_intent_vocabulary_is_the_dialogues():
    assert set(INTENTS) == set(NLU_INTENTS)


def test_alert_vocabulary_is_the_alert_books():
    from l2b2_office.alerts import KINDS
    assert set(ALERT_KINDS) == set(KINDS) | {'other'}


def test_hour_day_and_month_add_up_and_the_month_summary_is_the_sum_of_its_days(store):
    plan = [(1, 9, 3), (1, 10, 2), (2, 9, 5), (15, 16, 1), (31, 23, 4)]
    for day, hour, n in plan:
        store.add('greeted', at=at(day, hour, 5), n=n)
        for _ in range(n):
            store.add('conversations', at=at(day, hour, 10))
            store.add('language', 'tr' if day % 2 else 'de', at=at(day, hour, 10))
        store.add('department', 'meldestelle', at=at(day, hour, 20))
        store.add('escort', 'succeeded', at=at(day, hour, 30))
        store.add_answer_time(400 + 100 * hour, at=at(day, hour, 31))
    store.add('checkins', at=at(2, 9))
    store.add('greeted', at=at(30, 12, month=11), n=7)  # November: outside the month
    store.add('tickets', at=datetime(2027, 1, 1, 0, 0, tzinfo=BERLIN))  # January: outside too

    hours = store.summary('hour', date(2026, 12, 1), date(2026, 12, 31))
    days = store.summary('day', date(2026, 12, 1), date(2026, 12, 31))
    (month,) = store.summary('month', date(2026, 12, 1), date(2026, 12, 31))
    assert len(hours) == 31 * 24 and len(days) == 31
    assert [d.period for d in days[:2]] == ['2026-12-01', '2026-12-02'] and month.period == '2026-12'
    for col in month.counts:
        assert sum(h.counts[col] for h in hours) == sum(d.counts[col] for d in days) == month.counts[col], col
    assert month.counts['greeted'] == 15 and month.counts['conversations'] == 15
    assert month.counts['language_tr'] == 3 + 2 + 1 + 4 and month.counts['language_de'] == 5
    assert month.counts['checkins'] == 1 and month.counts['tickets'] == 0
    assert month.answers == sum(d.answers for d in days) == 5
    by_day = {d.period: d for d in days}
    assert by_day['2026-12-01'].counts['greeted'] == 5 and by_day['2026-12-03'].counts['greeted'] == 0

    summary = store.month_summary(2026, 12)
    assert summary['visitors_greeted'] == sum(d.counts['greeted'] for d in days) == 15
    assert summary['conversations'] == sum(d.counts['conversations'] for d in days)
    assert summary['languages'] == {'de': 5, 'tr': 10}
    assert summary['departments'] == {'meldestelle': 5}
    assert summary['escorts'] == {'succeeded': 5, 'visitor_lost': 0, 'failed': 0, 'canceled': 0, 'refused': 0}
    assert summary['checkins'] == 1 and summary['days_with_visitors'] == 4
    assert summary['median_answer_ms'] == month.median_answer_ms
    assert store.month_summary(2026, 11)['visitors_greeted'] == 7


def test_hours_are_office_time(store):
    # 08:30 UTC in December is 09:30 in Berlin; in July (summer time) 10:30.
    store.add('greeted', at=datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    store.add('greeted', at=datetime(2026, 7, 7, 8, 30, tzinfo=UTC))
    store.add('greeted', at=datetime(2026, 12, 7, 23, 30, tzinfo=UTC))  # already the 8th in Berlin
    assert {(h, n) for h, c, _l, n in store.dump() if c == 'greeted'} == {
        ('2026-12-07T09', 1), ('2026-07-07T10', 1), ('2026-12-08T00', 1)}


def test_only_the_closed_vocabulary_is_stored(store):
    for counter, label in (('language', 'Mein Name ist Schmidtke'), ('department', 'unknown_office'),
                           ('intent', 'Vorgangsnummer 4711'), ('escort', 'arrived'), ('nonsense', ''),
                           ('conversations', 'tr'), ('alert', 'whatever')):
        with pytest.raises(ValueError) as error:
            store.add(counter, label, at=at(1, 9))
        assert 'Schmidtke' not in str(error.value) and '4711' not in str(error.value)
    with pytest.raises(ValueError):
        store.add('greeted', at=at(1, 9), n=-1)
    with pytest.raises(ValueError):
        store.add_answer_time(float('nan'), at=at(1, 9))
    assert list(store.dump()) == []
    store.add('department', 'pass_ausweis', at=at(1, 9))
    store.add('alert', 'estop', at=at(1, 9))
    assert store.knows('language', 'tr') and not store.knows('language', 'fr')


def test_median_answer_time_from_buckets():
    assert bucket_of(0) == 100 and bucket_of(100) == 100 and bucket_of(101) == 200 and bucket_of(10 ** 6) == -1
    assert median_ms({}) is None
    assert median_ms({1000: 1}) == 875  # half way into the 750..1000 ms bucket
    assert median_ms({500: 3, 2000: 1}) == 433  # 4 answers: the median (2 of them) is 2/3 into 300..500
    assert median_ms({-1: 3}) == 30000


def test_median_per_period(store):
    for ms in (300, 320, 900, 1200, 2500):
        store.add_answer_time(ms, at=at(3, 11))
    store.add_answer_time(9000, at=at(4, 11))
    (day3, day4) = store.summary('day', date(2026, 12, 3), date(2026, 12, 4))
    assert (day3.answers, day4.answers) == (5, 1)
    assert 750 <= day3.median_answer_ms <= 1000 and 7500 <= day4.median_answer_ms <= 10000
    rows = list(store.dump())
    assert all(len(r) == 3 for r in rows)  # (hour, bucket, n): no per-answer row


def test_csv(store):
    store.add('conversations', at=at(1, 9))
    store.add('intent', 'ticket', at=at(1, 9))
    store.add('department', 'meldestelle', at=at(2, 9))
    store.add_answer_time(450, at=at(2, 9))
    text = store.to_csv('day', date(2026, 12, 1), date(2026, 12, 3))
    lines = text.splitlines()
    header = lines[0].split(',')
    assert header[0] == 'day' and header[-2:] == ['answers', 'median_answer_ms']
    assert {'conversations', 'greeted', 'language_de', 'language_tr', 'intent_ticket', 'department_meldestelle',
            'escort_visitor_lost'} <= set(header)
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert [r['day'] for r in rows] == ['2026-12-01', '2026-12-02', '2026-12-03']
    assert rows[0]['conversations'] == '1' and rows[0]['intent_ticket'] == '1' and rows[0]['median_answer_ms'] == ''
    assert rows[1]['department_meldestelle'] == '1' and rows[1]['answers'] == '1'
    with pytest.raises(ValueError):
        store.summary('week', date(2026, 12, 1), date(2026, 12, 3))
    with pytest.raises(ValueError):
        store.summary('day', date(2026, 12, 3), date(2026, 12, 1))


def test_schema_version_and_wal(tmp_path):
    path = tmp_path / 'f.sqlite'
    FiguresStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute('PRAGMA user_version').fetchone()[0] == SCHEMA_VERSION
    assert db.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
    db.execute(f'PRAGMA user_version={SCHEMA_VERSION + 1}')
    db.commit()
    db.close()
    with pytest.raises(FiguresError, match='newer') as error:
        FiguresStore(path)
    assert str(path) in str(error.value)


def test_corrupt_unwritable_and_missing_files_name_the_file(tmp_path):
    corrupt = tmp_path / 'corrupt.sqlite'
    corrupt.write_bytes(b'this is no database at all' * 100)
    with pytest.raises(FiguresError) as error:
        FiguresStore(corrupt)
    assert str(corrupt) in str(error.value)

    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    with pytest.raises(FiguresError) as error:
        FiguresStore(blocker / 'sub' / 'figures.sqlite')
    assert str(blocker / 'sub' / 'figures.sqlite') in str(error.value)

    missing = tmp_path / 'missing.sqlite'
    with pytest.raises(FiguresError, match='not found') as error:
        FiguresStore(missing, readonly=True)
    assert str(missing) in str(error.value) and not missing.exists()


def test_reopen_keeps_counts_and_readonly_cannot_write(tmp_path):
    path = tmp_path / 'f.sqlite'
    with FiguresStore(path) as s:
        s.add('greeted', at=at(1, 9), n=2)
    with FiguresStore(path) as s:
        s.add('greeted', at=at(1, 9))
        assert s.totals() == {('greeted', ''): 3}
    with FiguresStore(path, readonly=True) as s:
        assert s.totals() == {('greeted', ''): 3}
        with pytest.raises(FiguresError, match=str(path)):
            s.add('greeted', at=at(1, 9))


def test_concurrent_writers_lose_nothing(store):
    def work():
        for i in range(200):
            store.add('greeted', at=at(1, 9) + timedelta(minutes=i % 120))
            store.add_answer_time(i * 10, at=at(1, 9))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.totals()[('greeted', '')] == 800
    assert sum(store.answer_histogram().values()) == 800


def test_prometheus_collector(store):
    store.add('conversations', at=at(1, 9), n=3)
    store.add('language', 'tr', at=at(1, 9), n=2)
    store.add('escort', 'visitor_lost', at=at(1, 9))
    store.add_answer_time(600, at=at(1, 9))
    store.add_answer_time(40000, at=at(1, 9))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(store, health=lambda: {'asr': 1, 'tts': 3},
                                       alerts=lambda: {'estop': 1}))
    text = generate_latest(registry).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[('l2b2_conversations_total', ())] == 3
    assert samples[('l2b2_conversation_languages_total', (('language', 'tr'),))] == 2
    assert samples[('l2b2_conversation_languages_total', (('language', 'de'),))] == 0
    assert samples[('l2b2_escorts_total', (('outcome', 'visitor_lost'),))] == 1
    assert samples[('l2b2_answer_time_seconds_bucket', (('le', '0.75'),))] == 1
    assert samples[('l2b2_answer_time_seconds_count', ())] == 2
    assert samples[('l2b2_component_health', (('component', 'tts'),))] == 3
    assert samples[('l2b2_alerts_active', (('kind', 'estop'),))] == 1
    assert samples[('l2b2_alerts_active', (('kind', 'stuck'),))] == 0
    assert samples[('l2b2_alerts_raised_total', (('kind', 'estop'),))] == 0

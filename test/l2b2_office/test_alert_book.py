"""Issue 16, staff alerts: the alert book (raise once, clear, acknowledge, pending, bounded history) and
its audit log (real files, one JSON line per event, no visitor data)."""
from __future__ import annotations

import json
import stat

import pytest

from l2b2_office.alerts import KINDS, AlertAudit, AlertBook, Severity

T0 = 1_780_000_000.0


def test_raise_once_while_active_then_a_new_alert_after_clearing():
    book = AlertBook()
    first = book.raise_('estop', 'safety_gate', T0)
    assert first is not None and first.id == 'estop-1' and first.active and not first.acknowledged
    assert first.severity is Severity.CRITICAL and first.text == 'Emergency stop engaged (safety_gate).'
    assert book.raise_('estop', 'safety_gate', T0 + 1) is None  # still held: the same alert
    other = book.raise_('node_missing', 'asr', T0 + 2)  # another kind (or source) is another alert
    assert other is not None and other.severity is Severity.WARNING
    assert book.raise_('node_missing', 'tts', T0 + 2) is not None

    cleared = book.clear('estop', 'safety_gate', T0 + 3)
    assert cleared is not None and not cleared.active and cleared.cleared_at == T0 + 3
    assert book.clear('estop', 'safety_gate', T0 + 4) is None  # nothing active to clear
    assert book.get('estop-1').pending  # gone, but nobody has seen it yet
    again = book.raise_('estop', 'safety_gate', T0 + 5)
    assert again is not None and again.id != first.id


def test_acknowledge_and_pending_newest_first():
    book = AlertBook()
    estop = book.raise_('estop', 'safety_gate', T0)
    lost = book.raise_('visitor_lost', 'escort', T0 + 1)
    battery = book.raise_('battery_critical', 'battery', T0 + 2)
    assert [a.id for a in book.pending()] == [battery.id, lost.id, estop.id]

    result = book.acknowledge(lost.id, 'anna', T0 + 3)
    assert result.success and result.alert.acknowledged_by == 'anna' and result.alert.acknowledged_at == T0 + 3
    # Acknowledged but its condition never "ends" here: still active, so still pending (a held stop shows).
    assert lost.id in [a.id for a in book.pending()]
    book.clear('visitor_lost', 'escort', T0 + 4)
    assert [a.id for a in book.pending()] == [battery.id, estop.id]

    # Cleared first, acknowledged later: pending until the acknowledgement.
    book.clear('estop', 'safety_gate', T0 + 5)
    assert estop.id in [a.id for a in book.pending()]
    book.acknowledge(estop.id, 'bernd', T0 + 6)
    assert [a.id for a in book.pending()] == [battery.id]

    twice = book.acknowledge(estop.id, 'carla', T0 + 7)
    assert twice.success and not twice.changed and 'bernd' in twice.message and book.get(estop.id).acknowledged_by == 'bernd'
    assert [a.id for a in book.history()] == [battery.id, lost.id, estop.id]
    assert [a.id for a in book.history(1)] == [battery.id]


def test_acknowledge_errors_are_clear():
    book = AlertBook()
    alert = book.raise_('queue_down', 'queue_bridge', T0)
    unknown = book.acknowledge('estop-99', 'anna', T0)
    assert not unknown.success and 'no alert with that id' in unknown.message and unknown.alert is None
    nobody = book.acknowledge(alert.id, '', T0)
    assert not nobody.success and 'user' in nobody.message
    odd = book.acknowledge(alert.id, 'anna\nforged line', T0)
    assert not odd.success
    assert not book.get(alert.id).acknowledged


def test_kinds_are_closed_and_text_comes_only_from_templates():
    book = AlertBook()
    with pytest.raises(ValueError, match='unknown alert kind'):
        book.raise_('Frau Müller needs help', 'dialogue', T0)
    # A source that is not a component name cannot carry text into the alert.
    alert = book.raise_('checkin_failures', 'Booking 4711 Mustermann', T0)
    assert alert.source == 'unknown' and '4711' not in alert.text and 'Mustermann' not in alert.text
    assert set(KINDS) == {'stuck', 'visitor_lost', 'estop', 'battery_critical', 'queue_down', 'node_missing',
                          'checkin_failures'}
    critical = {k for k, (severity, _text) in KINDS.items() if severity is Severity.CRITICAL}
    assert critical == {'estop', 'battery_critical', 'stuck'}


def test_history_is_bounded_but_never_drops_pending_alerts():
    book = AlertBook(max_history=5)
    keep = book.raise_('estop', 'safety_gate', T0)  # never acknowledged: must survive
    for i in range(20):
        a = book.raise_('node_missing', f'node_{i}', T0 + i)
        book.clear('node_missing', f'node_{i}', T0 + i)
        book.acknowledge(a.id, 'anna', T0 + i)
    history = book.history()
    assert len(history) == 5 and keep.id in [a.id for a in history]
    assert history[0].source == 'node_19'  # the newest settled ones stay
    assert [a.id for a in book.pending()] == [keep.id]


def test_audit_lines_for_raise_clear_acknowledge(tmp_path):
    path = tmp_path / 'state' / 'alerts_audit.jsonl'
    book = AlertBook(audit=AlertAudit(path))
    alert = book.raise_('checkin_failures', 'dialogue', T0)
    book.raise_('checkin_failures', 'dialogue', T0 + 1)  # not raised twice: not audited twice
    book.acknowledge(alert.id, 'anna', T0 + 2)
    book.clear('checkin_failures', 'dialogue', T0 + 3)
    book.acknowledge('nope-1', 'anna', T0 + 4)  # a failed acknowledgement changes nothing, writes nothing

    lines = [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines()]
    assert [e['event'] for e in lines] == ['raised', 'acknowledged', 'cleared']
    assert all(e['id'] == alert.id and e['kind'] == 'checkin_failures' and e['source'] == 'dialogue' for e in lines)
    assert lines[0]['severity'] == 'warning' and 'user' not in lines[0]
    assert lines[1]['user'] == 'anna'
    assert lines[0]['time'].startswith('2026-05-28T') and lines[0]['time'].endswith('+00:00')
    assert set().union(*lines) == {'time', 'event', 'id', 'kind', 'severity', 'source', 'user'}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_ids_go_on_after_a_restart(tmp_path):
    path = tmp_path / 'alerts_audit.jsonl'
    first = AlertBook(audit=AlertAudit(path))
    first.raise_('estop', 'safety_gate', T0)
    first.raise_('stuck', 'escort', T0)
    restarted = AlertBook(audit=AlertAudit(path))
    assert restarted.raise_('estop', 'safety_gate', T0 + 60).id == 'estop-3'


def test_audit_write_failure_is_counted_not_raised(tmp_path):
    target = tmp_path / 'audit.jsonl'
    target.mkdir()  # a directory where the file should be: every write fails
    audit = AlertAudit(target)
    book = AlertBook(audit=audit)
    assert book.raise_('estop', 'safety_gate', T0) is not None
    assert audit.failures == 1 and 'IsADirectoryError' in audit.last_error


def test_on_raise_hook_sees_each_new_alert_once():
    seen = []
    book = AlertBook(on_raise=seen.append)
    book.raise_('stuck', 'escort', T0)
    book.raise_('stuck', 'escort', T0 + 1)
    assert [a.kind for a in seen] == ['stuck']

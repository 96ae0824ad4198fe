"""The recorder's rules on a fake clock, writing into a real figures file."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from l2b2_common.codes import EscortOutcome
from l2b2_dialogue.responses import load_responses
from l2b2_office.figures import FiguresStore
from l2b2_office.figures_recorder import (
    AlertView,
    DialogueUpdate,
    FiguresRecorder,
    NotUnderstoodMatcher,
    escort_label,
)

T0 = datetime(2026, 12, 7, 9, 58, tzinfo=ZoneInfo('Europe/Berlin'))


@pytest.fixture
def store(tmp_path):
    with FiguresStore(tmp_path / 'f.sqlite', departments=('meldestelle', 'pass_ausweis', 'info',
                                                          'wartebereich')) as s:
        yield s


def counts(store) -> dict[tuple[str, str], int]:
    return store.totals()


def by_hour(store) -> dict[tuple[str, str, str], int]:
    return {(h, c, lbl): n for h, c, lbl, n in store.dump() if isinstance(c, str)}


def feed(recorder, steps, start=T0, every=timedelta(seconds=5)):
    """Feed (state, kwargs) dialogue updates, ``every`` apart; returns the time after the last."""
    now = start
    for state, fields in steps:
        recorder.dialogue(DialogueUpdate(state=state, **fields), now)
        now += every
    return now


def test_a_check_in_conversation(store):
    r = FiguresRecorder(store)
    sid = {'session_id': 's1'}
    feed(r, [
        ('idle', {}),
        ('greeting', {**sid, 'language': 'de'}),
        ('checkin', {**sid, 'language': 'tr', 'intent': 'appointment_checkin'}),
        ('checkin', {**sid, 'language': 'tr', 'intent': 'out_of_scope'}),  # the surname, not understood as such
        ('checkin', {**sid, 'language': 'tr', 'intent': 'out_of_scope', 'target_id': 'meldestelle'}),
        ('confirming', {**sid, 'language': 'tr', 'intent': 'out_of_scope', 'target_id': 'wartebereich',
                        'display_number': 'A17'}),
        ('confirming', {**sid, 'language': 'tr', 'intent': 'out_of_scope', 'target_id': 'wartebereich',
                        'display_number': 'A17'}),  # published again: not counted again
        ('escorting', {**sid, 'language': 'tr', 'intent': 'affirm', 'target_id': 'wartebereich',
                       'display_number': 'A17'}),
    ])
    assert counts(store) == {('conversations', ''): 1, ('intent', 'appointment_checkin'): 1,
                             ('intent', 'out_of_scope'): 1, ('department', 'meldestelle'): 1, ('checkins', ''): 1}
    r.dialogue(DialogueUpdate('idle'), T0 + timedelta(minutes=5))  # the conversation ends: its final language
    assert counts(store)[('language', 'tr')] == 1 and ('language', 'de') not in counts(store)
    # The language goes to the hour the conversation started (09), with its conversation.
    assert by_hour(store)[('2026-12-07T09', 'language', 'tr')] == 1
    assert by_hour(store)[('2026-12-07T09', 'conversations', '')] == 1


def test_tickets_and_departments_once_per_conversation(store):
    r = FiguresRecorder(store)
    feed(r, [
        ('idle', {}),
        ('listening', {'session_id': 'a', 'language': 'de', 'intent': 'ticket'}),
        ('ticket', {'session_id': 'a', 'language': 'de', 'intent': 'ticket'}),
        ('ticket', {'session_id': 'a', 'language': 'de', 'intent': 'ticket', 'target_id': 'pass_ausweis'}),
        ('confirming', {'session_id': 'a', 'language': 'de', 'intent': 'ticket', 'target_id': 'wartebereich',
                        'display_number': '12'}),
        ('listening', {'session_id': 'a', 'language': 'de', 'intent': 'escort', 'target_id': 'pass_ausweis',
                       'display_number': '12'}),
        ('confirming', {'session_id': 'a', 'language': 'de', 'intent': 'escort', 'target_id': 'pass_ausweis'}),
        ('listening', {'session_id': 'b', 'language': 'tr', 'intent': 'opening_hours',
                       'target_id': 'meldestelle'}),  # a new conversation right away
        ('confirming', {'session_id': 'b', 'language': 'tr', 'intent': 'escort', 'target_id': 'nowhere'}),
    ])
    r.close()
    c = counts(store)
    assert c[('conversations', '')] == 2 and c[('tickets', '')] == 1 and ('checkins', '') not in c
    assert c[('intent', 'ticket')] == 1 and c[('intent', 'escort')] == 2 and c[('intent', 'opening_hours')] == 1
    assert c[('department', 'pass_ausweis')] == 1 and c[('department', 'meldestelle')] == 1
    assert ('department', 'wartebereich') not in c  # only offered with the waiting number
    assert c[('language', 'de')] == 1 and c[('language', 'tr')] == 1


def test_a_conversation_under_way_at_start_is_adopted_not_counted(store):
    r = FiguresRecorder(store)
    r.dialogue(DialogueUpdate('ticket', 'old', 'tr', 'ticket', 'meldestelle'), T0, before_start=True)  # latched
    feed(r, [('confirming', {'session_id': 'old', 'language': 'tr', 'intent': 'ticket', 'display_number': '9'}),
             ('idle', {}),
             ('greeting', {'session_id': 'new', 'language': 'de'})])
    r.close()
    assert counts(store) == {('conversations', ''): 1, ('language', 'de'): 1}


def test_answer_time_and_not_understood(store):
    r = FiguresRecorder(store, max_answer_s=10.0)
    r.visitor_spoke(T0)
    r.robot_said(T0 + timedelta(milliseconds=800))  # 800 ms: bucket 1000
    r.robot_said(T0 + timedelta(seconds=2))  # a second sentence answers nothing new
    r.visitor_spoke(T0 + timedelta(seconds=10))
    r.visitor_spoke(T0 + timedelta(seconds=11))  # the newer utterance restarts the clock
    r.robot_said(T0 + timedelta(seconds=11, milliseconds=250), not_understood=True)
    r.visitor_spoke(T0 + timedelta(seconds=20))
    r.robot_said(T0 + timedelta(seconds=45))  # too late to be an answer to it
    assert store.answer_histogram() == {1000: 1, 300: 1}
    assert counts(store) == {('not_understood', ''): 1}


def test_not_understood_matcher_knows_the_dialogues_sentences():
    responses = load_responses()
    matcher = NotUnderstoodMatcher.from_responses(responses)
    for lang in responses.languages:
        assert matcher(responses.text('not_understood', lang))
        assert matcher(responses.text('not_understood_info', lang, to_target='zur Infotheke'))
        for key in ('greeting', 'how_can_i_help', 'reprompt_listening', 'checkin_ask_number', 'farewell'):
            assert not matcher(responses.text(key, lang)), (lang, key)


def test_greeted_once_per_track(store):
    r = FiguresRecorder(store, remember_people=2)
    for pid in (1, 2, 1, 3, 1):  # a track seen again is refreshed: 3 pushes out 2, not 1
        r.person_approached(pid, T0)
    assert counts(store) == {('greeted', ''): 3}


def test_escort_outcomes(store):
    assert [escort_label(o) for o in EscortOutcome] == ['succeeded', 'failed', 'visitor_lost', 'failed',
                                                        'canceled', 'failed', 'failed', 'refused']
    assert escort_label(99) == 'failed'
    r = FiguresRecorder(store)
    for outcome in (EscortOutcome.ARRIVED, EscortOutcome.ARRIVED, EscortOutcome.VISITOR_LOST,
                    EscortOutcome.ESTOPPED):
        r.escort_finished(int(outcome), T0)
    assert counts(store) == {('escort', 'succeeded'): 2, ('escort', 'visitor_lost'): 1, ('escort', 'failed'): 1}


def test_alerts_counted_once_by_kind(store):
    r = FiguresRecorder(store)
    r.alerts([AlertView('estop-1', 'estop', active=True)], T0, before_start=True)  # raised before we started
    r.alerts([AlertView('estop-1', 'estop', active=True), AlertView('stuck-2', 'stuck', active=False),
              AlertView('x-3', 'Something new', active=True)], T0)
    r.alerts([AlertView('stuck-2', 'stuck', active=False, acknowledged=False)], T0)
    assert counts(store) == {('alert', 'stuck'): 1, ('alert', 'other'): 1}
    assert r.active_alerts == {}
    r.alerts([AlertView('estop-4', 'estop', active=True)], T0)
    assert r.active_alerts == {'estop': 1} and counts(store)[('alert', 'estop')] == 1

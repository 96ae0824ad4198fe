"""Issue 17 (items 2 and 4, the dialogue side): check-in is no oracle and its attempts are limited; one waiting
number per conversation and a least interval between numbers at the robot. On the engine, on a fake clock."""
from __future__ import annotations

import pytest

from l2b2_common.codes import QueueResult
from l2b2_dialogue import engine as eng
from l2b2_dialogue.checkin import CHECKIN_ALERT, FailedLookups
from l2b2_dialogue.effects import TellStaff

from .test_engine import Conversation, of

FAILURES = (QueueResult.NOT_FOUND, QueueResult.FORBIDDEN, QueueResult.INVALID, QueueResult.ERROR)


@pytest.fixture
def conv(nlu, responses):
    return Conversation(nlu, responses)


def attempt(conv, number, result, name='Mustermann'):
    """One check-in by touch ("4711 Mustermann") answered with ``result``; what the robot did."""
    out = conv.touch('checkin', f'{number} {name}')
    lookups = of(out, eng.LookupAppointment)
    if lookups:
        conv.engine.lookup_done(result, conv._step(), 'meldestelle')
        out += conv.drain()
    return out, lookups


def new_conversation(conv):
    conv.touch('cancel')
    conv.touch('start')
    conv.drain()


@pytest.mark.parametrize('language', ['de', 'tr', 'en'])
def test_unknown_number_and_wrong_name_get_one_and_the_same_answer(conv, language):
    said = {}
    for result in FAILURES:
        conv.touch('start', language=language)
        out, lookups = attempt(conv, 4711, result)
        assert lookups, 'the first attempt is looked up'
        (say,) = of(out, eng.Say)[-1:]
        said[result] = say.text
        assert say.key == 'checkin_no_match' and say.language == language and conv.state == 'checkin'
        snap = conv.engine.snapshot()
        assert snap.target_id != 'meldestelle', 'a failed look-up shows no department of the booking'
        new_conversation(conv)
    assert len(set(said.values())) == 1, said


def test_after_a_failure_the_number_is_asked_first_then_the_name(conv):
    conv.hear('ich habe einen termin')
    conv.hear('vier sieben eins eins')
    conv.hear('Mustermann')
    conv.engine.lookup_done(QueueResult.FORBIDDEN, conv._step())
    conv.drain()
    out = conv.hear('Mustermann')
    assert conv.keys(out) == ['reprompt_checkin'] and not of(out, eng.LookupAppointment), 'a name is no number'
    assert conv.keys(conv.hear('vier sieben eins zwei')) == ['checkin_ask_name']
    out = conv.hear('Erika Mustermann')
    assert of(out, eng.LookupAppointment) == [eng.LookupAppointment('4712', 'Erika Mustermann')]


def test_a_conversation_has_three_attempts_then_the_info_desk_and_staff_are_told(conv):
    conv.touch('start')
    for number in (4711, 4712):
        out, _ = attempt(conv, number, QueueResult.NOT_FOUND)
        assert conv.keys(out)[-1] == 'checkin_no_match' and not of(out, TellStaff)
    out, _ = attempt(conv, 4713, QueueResult.FORBIDDEN)
    assert conv.keys(out)[-1] == 'checkin_no_match_info'
    assert conv.state == 'confirming' and conv.engine.snapshot().target_id == 'info'
    assert of(out, TellStaff) == [TellStaff(CHECKIN_ALERT, 900.0)]
    # Asking again in the same conversation: not looked up, the same answer; staff were told already.
    out, lookups = attempt(conv, 4714, QueueResult.OK)
    assert not lookups and conv.keys(out)[-1] == 'checkin_no_match_info' and not of(out, TellStaff)


def test_a_cancel_does_not_reset_the_count_of_a_booking_number(conv):
    """Five failures of one number, in conversations cut short by cancel, lock it for the window."""
    for _ in range(2):
        conv.touch('start')
        for _ in range(2):
            out, lookups = attempt(conv, 4711, QueueResult.FORBIDDEN)
            assert lookups and conv.keys(out)[-1] == 'checkin_no_match'
        new_conversation(conv)
    out, lookups = attempt(conv, 4711, QueueResult.FORBIDDEN)
    assert lookups and conv.keys(out)[-1] == 'checkin_no_match_info', 'the fifth failure locks the number'
    assert of(out, TellStaff) == [TellStaff(CHECKIN_ALERT, 900.0)]
    for locked in ('4711', '04711'):
        new_conversation(conv)
        out, lookups = attempt(conv, locked, QueueResult.OK, name='Erika Mustermann')
        assert not lookups, f'{locked}: a locked number is not looked up, even with the right name'
        assert conv.keys(out) == ['checkin_no_match_info'] and conv.engine.snapshot().target_id == 'info'
    new_conversation(conv)
    out, lookups = attempt(conv, 4712, QueueResult.OK, name='Yılmaz')
    assert lookups and of(out, eng.CheckIn) == [eng.CheckIn('4712')], 'other numbers are not locked'
    new_conversation(conv)
    conv.t += 901.0  # the window has passed since the last failure of 4711
    out, lookups = attempt(conv, 4711, QueueResult.OK)
    assert lookups and of(out, eng.CheckIn) == [eng.CheckIn('4711')]


def test_a_booking_number_locks_in_one_conversation_when_its_limit_is_lower(nlu, responses):
    conv = Conversation(nlu, responses, checkin_max_failures=5, checkin_number_max_failures=2)
    conv.touch('start')
    attempt(conv, 4711, QueueResult.NOT_FOUND)
    out, _ = attempt(conv, 4711, QueueResult.NOT_FOUND)
    assert conv.keys(out)[-1] == 'checkin_no_match_info' and of(out, TellStaff)


def test_staff_are_told_once_per_window(conv):
    conv.touch('start')
    for number in (4711, 4712, 4713):
        out, _ = attempt(conv, number, QueueResult.NOT_FOUND)
    assert len(of(conv.effects, TellStaff)) == 1
    new_conversation(conv)
    for number in (4714, 4715, 4716):
        attempt(conv, number, QueueResult.NOT_FOUND)
    assert conv.state == 'confirming' and len(of(conv.effects, TellStaff)) == 1, 'the alert still stands'
    new_conversation(conv)
    conv.t += 900.0
    for number in (4717, 4718, 4719):
        attempt(conv, number, QueueResult.NOT_FOUND)
    assert len(of(conv.effects, TellStaff)) == 2


def test_many_numbers_tried_at_the_robot_tell_staff_but_lock_nothing(nlu, responses):
    """Two attempts per conversation, a new number each time: no conversation or number limit is reached,
    but the robot's failures within the window are."""
    conv = Conversation(nlu, responses, checkin_robot_alert_failures=6)
    numbers = iter(range(5000, 5100))
    for _ in range(3):
        conv.touch('start')
        for _ in range(2):
            out, lookups = attempt(conv, next(numbers), QueueResult.NOT_FOUND)
            assert lookups and conv.keys(out)[-1] == 'checkin_no_match'
        new_conversation(conv)
    assert of(conv.effects, TellStaff) == [TellStaff(CHECKIN_ALERT, 900.0)]
    out, lookups = attempt(conv, next(numbers), QueueResult.OK)
    assert lookups and of(out, eng.CheckIn), 'nothing is locked'


def test_an_unavailable_queue_bridge_is_no_failed_attempt(conv):
    conv.touch('start')
    for _ in range(4):
        out, _ = attempt(conv, 4711, QueueResult.UNAVAILABLE)
        assert conv.keys(out)[-1] == 'queue_unavailable'
    assert conv.engine.session.checkin_failures == 0 and conv.engine._failed_lookups.count('4711', conv.t, 900) == 0


def test_staff_alert_and_memory_hold_no_booking_number_or_name():
    lookups = FailedLookups()
    lookups.record('4711', 10.0, 900.0)
    assert lookups.record(' 04711 ', 11.0, 900.0) == (2, 2)
    assert lookups.count('4711', 12.0, 900.0) == 2 and lookups.count('4712', 12.0, 900.0) == 0
    held = repr(vars(lookups))
    assert '4711' not in held and all(len(k) == 64 for k in lookups._by_number)
    assert lookups.count('4711', 911.0, 900.0) == 0 and len(lookups) == 0, 'forgotten after the window'
    assert not any(ch.isdigit() for ch in CHECKIN_ALERT) and 'Mustermann' not in CHECKIN_ALERT


def test_failed_lookups_keep_a_bounded_number_of_numbers():
    lookups = FailedLookups(max_numbers=3)
    for i, number in enumerate(('1111', '2222', '3333', '4444')):
        lookups.record(number, float(i), 900.0)
    assert len(lookups) == 3 and lookups.count('1111', 5.0, 900.0) == 0 and lookups.count('4444', 5.0, 900.0) == 1


# -- waiting numbers ----------------------------------------------------------------------------------------------
def draw(conv, target='meldestelle', number='M042'):
    out = conv.touch('ticket', target)
    tickets = of(out, eng.DrawTicket)
    if tickets:
        conv.engine.ticket_done(QueueResult.OK, conv._step(), number, 3, 10)
        out += conv.drain()
    return out, tickets


@pytest.mark.parametrize('language', ['de', 'tr', 'en'])
def test_a_second_ticket_in_a_conversation_repeats_the_number_drawn(conv, language):
    conv.touch('start', language=language)
    out, tickets = draw(conv)
    assert tickets and conv.keys(out) == ['ticket_ok']
    conv.t += 60.0
    out, tickets = draw(conv, 'pass_ausweis', 'P001')
    assert not tickets and conv.keys(out) == ['ticket_already']
    assert 'M042' in of(out, eng.Say)[0].text and of(out, eng.Say)[0].language == language
    assert conv.state == 'confirming' and conv.engine.snapshot().target_id == 'wartebereich'
    for ask in (lambda: conv.touch('choice', 'ticket'), lambda: conv.hear('ich möchte noch eine wartenummer')):
        out = ask()
        assert conv.keys(out) == ['ticket_already'] and not of(out, eng.DrawTicket)


def test_staff_may_allow_more_tickets_per_conversation(nlu, responses):
    conv = Conversation(nlu, responses, max_tickets_per_conversation=2)
    conv.touch('start')
    assert draw(conv, 'meldestelle', 'M1')[1]
    conv.t += 10.0
    assert draw(conv, 'pass_ausweis', 'P1')[1]
    conv.t += 10.0
    out, tickets = draw(conv, 'standesamt', 'S1')
    assert not tickets and 'M1' in of(out, eng.Say)[0].text and 'P1' in of(out, eng.Say)[0].text


def test_failed_draws_do_not_count(conv):
    conv.touch('start')
    for result in (QueueResult.CLOSED, QueueResult.UNAVAILABLE):
        conv.touch('ticket', 'meldestelle')
        conv.engine.ticket_done(result, conv._step())
        conv.drain()
    out, tickets = draw(conv)
    assert tickets and conv.keys(out) == ['ticket_ok']


def test_tickets_at_the_robot_are_spaced_but_a_queue_of_visitors_is_served(conv):
    """A touch flood (cancel, start, ticket) meets the interval; visitors one after the other each get theirs."""
    conv.touch('start')
    assert draw(conv, number='M1')[1]
    new_conversation(conv)
    out, tickets = draw(conv, number='M2')
    assert not tickets and conv.keys(out) == ['ticket_wait'] and conv.state == 'ticket'
    assert 'meldestelle' in conv.engine.snapshot().choices, 'the visitor can choose again'
    conv.t += 5.0
    out, tickets = draw(conv, number='M2')
    assert tickets and conv.keys(out) == ['ticket_ok']
    for i in range(3, 8):  # a queue of visitors: each draws one, says goodbye, the next one starts
        conv.hear('nein danke')
        assert conv.state == 'farewell'
        conv.touch('start')
        conv.t += 5.0
        out, tickets = draw(conv, number=f'M{i}')
        assert tickets and f'M{i}' in of(out, eng.Say)[0].text


def test_a_new_visitor_after_a_farewell_does_not_hear_the_last_number(conv):
    conv.touch('start')
    draw(conv, number='M1')
    conv.hear('nein danke')
    assert conv.state == 'farewell'
    conv.t += 10.0
    out = conv.hear('guten tag')
    assert conv.state == 'greeting'
    out, tickets = draw(conv, number='M2')
    assert tickets and 'M1' not in ' '.join(s.text for s in of(out, eng.Say))

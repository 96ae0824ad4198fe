"""Multi-turn conversations on the pure state machine, in German and Turkish, on a fake clock."""
from __future__ import annotations

from datetime import datetime

import pytest

from l2b2_common.codes import EscortOutcome, QueueResult
from l2b2_dialogue import diagram
from l2b2_dialogue import engine as eng

MONDAY_10 = datetime(2026, 11, 23, 10, 0)
SUNDAY = datetime(2026, 11, 22, 10, 0)


class Conversation:
    """Drives an engine and keeps what it said and did."""

    def __init__(self, nlu, responses, **settings):
        self.t = 0.0
        self.wall = MONDAY_10
        self.engine = eng.DialogueEngine(nlu.catalog, nlu, responses, eng.Settings(**settings),
                                         wall_clock=lambda: self.wall)
        self.effects = []

    @property
    def state(self):
        return self.engine.state

    def _step(self, dt=0.5):
        self.t += dt
        return self.t

    def drain(self):
        new = self.engine.drain()
        self.effects += new
        return new

    def said(self):
        return [e for e in self.drain() if isinstance(e, eng.Say)]

    def keys(self, new):
        return [e.key for e in new if isinstance(e, eng.Say)]

    def hear(self, text, language='de'):
        self.engine.hear(text, language, self._step())
        return self.drain()

    def touch(self, action, value='', language=''):
        self.engine.touch(action, value, language, self._step())
        return self.drain()

    def wait(self, seconds):
        """Let time pass in small ticks, as the node's timer does."""
        new = []
        end = self.t + seconds
        while self.t < end:
            self.engine.tick(self._step(0.25))
            new += self.drain()
        return new


def of(effects, kind):
    return [e for e in effects if isinstance(e, kind)]


@pytest.fixture
def conv(nlu, responses):
    return Conversation(nlu, responses)


def test_escort_happy_path_german(conv):
    conv.engine.approach(0.0)
    greeting = conv.drain()
    assert conv.state == 'greeting' and conv.keys(greeting) == ['greeting']
    out = conv.hear('Ich brauche einen neuen Personalausweis')
    assert conv.state == 'confirming'
    assert 'zur Pass- und Ausweisstelle' in of(out, eng.Say)[0].text
    out = conv.hear('ja gerne')
    assert conv.state == 'escorting'
    assert of(out, eng.StartEscort) == [eng.StartEscort('pass_ausweis', 'de')]
    assert conv.engine.snapshot().choices == ['stop']
    conv.engine.escort_done(EscortOutcome.ARRIVED, conv._step())
    assert conv.state == 'arrived' and conv.drain() == []  # the escort node announces the arrival
    out = conv.wait(5)
    assert 'farewell' in conv.keys(out)
    out = conv.wait(5)
    assert conv.state == 'returning' and conv.keys(out) == ['returning']
    conv.wait(10)
    assert conv.state == 'idle' and conv.engine.snapshot().session_id == ''


def test_escort_happy_path_turkish(conv):
    out = conv.hear('merhaba', 'tr')
    assert conv.state == 'greeting' and of(out, eng.Say)[0].language == 'tr'
    out = conv.hear('kimliğimi kaybettim', 'tr')
    assert conv.state == 'confirming'
    assert of(out, eng.Say)[0].text == "Sizi Pasaport ve Kimlik Bürosu'na götüreyim mi?"
    out = conv.hear('evet', 'tr')
    assert of(out, eng.StartEscort) == [eng.StartEscort('pass_ausweis', 'tr')]
    assert of(out, eng.Say)[0].text == "Memnuniyetle, sizi Pasaport ve Kimlik Bürosu'na götürüyorum."
    conv.engine.escort_done(EscortOutcome.ARRIVED, conv._step())
    assert conv.state == 'arrived'
    assert conv.keys(conv.wait(5)) == ['farewell'] and 'Hoşça kalın' in conv.engine.snapshot().last_robot_text


def test_polite_decline_says_goodbye(conv):
    conv.hear('evlenmek istiyoruz', 'tr')
    out = conv.hear('hayır teşekkürler', 'tr')
    assert conv.state == 'farewell' and of(out, eng.Say)[0].language == 'tr'


def test_choice_synonyms_from_the_screen(conv):
    conv.touch('ticket', 'meldestelle')
    conv.engine.ticket_done(QueueResult.OK, conv._step(), 'M1', 2, 5)
    conv.drain()
    conv.touch('choice', 'deny')
    assert conv.state == 'farewell'


def test_deny_then_new_target(conv):
    conv.hear('wo ist die meldestelle')
    out = conv.hear('nein')
    assert conv.state == 'listening' and conv.keys(out) == ['where_instead']
    conv.hear('zum standesamt bitte')
    assert conv.state == 'confirming' and conv.engine.snapshot().target_id == 'standesamt'


def test_low_confidence_asks_with_candidates_and_takes_an_ordinal(nlu, responses):
    c = Conversation(nlu, responses, confidence_threshold=0.95)
    out = c.hear('ich möchte meinen ausweis abholen')
    assert c.state == 'clarifying'
    snap = c.engine.snapshot()
    assert 2 <= len(snap.candidates) <= 3 and 'abholterminal' in snap.candidates
    assert snap.choices[-1] == 'none' and of(out, eng.Say)[0].key in ('clarify', 'clarify_two')
    c.hear('die zweite')
    assert c.state == 'confirming' and c.engine.snapshot().target_id == snap.candidates[1]


def test_clarifying_by_naming_a_candidate(nlu, responses):
    c = Conversation(nlu, responses, confidence_threshold=0.95)
    c.hear('ich möchte meinen ausweis abholen')
    candidates = c.engine.snapshot().candidates
    c.touch('choice', candidates[0])
    assert c.state == 'confirming' and c.engine.snapshot().target_id == candidates[0]


def test_silence_reprompts_are_bounded_then_goodbye(conv):
    conv.hear('wo ist das klo')
    out = conv.wait(12.5)
    assert conv.keys(out) == ['reprompt_confirm'] and conv.state == 'confirming'
    out = conv.wait(12.5)
    assert conv.keys(out) == ['reprompt_confirm']
    out = conv.wait(12.5)
    assert conv.keys(out) == ['farewell'] and conv.state == 'farewell'
    conv.wait(5)
    assert conv.state == 'idle'


def test_greeting_times_out_to_listening(conv):
    conv.engine.approach(conv._step())
    conv.drain()
    conv.wait(6.5)
    assert conv.state == 'listening'


def test_language_switch_at_any_point_repeats_the_question(conv):
    conv.hear('wo ist das standesamt')
    assert conv.state == 'confirming'
    out = conv.hear('können wir türkisch sprechen')
    assert conv.state == 'confirming'
    say = of(out, eng.Say)[0]
    assert say.language == 'tr' and 'Evlendirme ve Nüfus Dairesi' in say.text
    out = conv.hear('almanca lütfen', 'tr')
    assert of(out, eng.Say)[0].language == 'de' and conv.engine.snapshot().language == 'de'


def test_language_switch_by_touch_and_service(conv):
    conv.touch('start', language='de')
    out = conv.touch('language', 'tr')
    assert of(out, eng.Say)[0].language == 'tr'
    assert conv.engine.set_language('de', conv._step()) is True
    assert conv.engine.set_language('fr', conv._step()) is False


def test_visitor_speaking_turkish_gets_turkish_answers(conv):
    conv.touch('start', language='de')
    out = conv.hear('tuvalet nerede', 'tr')
    assert of(out, eng.Say)[0].language == 'tr'


def test_checkin_flow_with_spoken_digits(conv):
    conv.hear('ich habe einen termin')
    assert conv.state == 'checkin'
    out = conv.hear('vier sieben eins eins')
    assert conv.keys(out) == ['checkin_ask_name'] and not of(out, eng.LookupAppointment)
    out = conv.hear('mein Name ist Erika Mustermann')
    assert of(out, eng.LookupAppointment) == [eng.LookupAppointment('4711', 'Erika Mustermann')]
    snap = conv.engine.snapshot()
    assert snap.choices == [] and 'Mustermann' not in snap.last_user_text
    conv.engine.lookup_done(QueueResult.OK, conv._step(), 'pass_ausweis')
    assert of(conv.drain(), eng.CheckIn) == [eng.CheckIn('4711')]
    conv.engine.checkin_done(QueueResult.OK, conv._step(), 'A17', 12)
    out = conv.drain()
    snap = conv.engine.snapshot()
    assert conv.state == 'confirming' and snap.display_number == 'A17' and snap.estimated_wait_minutes == 12
    assert 'A17' in of(out, eng.Say)[0].text and snap.target_id == 'wartebereich'
    out = conv.hear('ja')
    assert of(out, eng.StartEscort) == [eng.StartEscort('wartebereich', 'de')]


def test_checkin_unknown_number_reprompts_then_offers_info(nlu, responses):
    conv = Conversation(nlu, responses, checkin_ask_name=False)
    conv.hear('randevum var 9999', 'tr')
    for _ in range(2):
        conv.engine.lookup_done(QueueResult.NOT_FOUND, conv._step())
        assert conv.keys(conv.drain()) == ['checkin_no_match']
        conv.hear('dokuz dokuz dokuz dokuz', 'tr')
    conv.engine.lookup_done(QueueResult.NOT_FOUND, conv._step())
    assert conv.keys(conv.drain()) == ['checkin_no_match_info']
    assert conv.state == 'confirming' and conv.engine.snapshot().target_id == 'info'


def test_checkin_wrong_name_gets_the_same_answer_and_asks_number_then_name(conv):
    """Issue 17: a wrong name is answered as an unknown number; the number is asked again, then the name."""
    conv.touch('checkin', '4712 Müller', 'tr')
    conv.engine.lookup_done(QueueResult.FORBIDDEN, conv._step())
    assert conv.keys(conv.drain()) == ['checkin_no_match'] and conv.state == 'checkin'
    out = conv.hear('dört yedi bir iki', 'tr')
    assert conv.keys(out) == ['checkin_ask_name'] and not of(out, eng.LookupAppointment)
    out = conv.hear('soyadım Öztürk', 'tr')
    assert of(out, eng.LookupAppointment) == [eng.LookupAppointment('4712', 'Öztürk')]


def test_checkin_name_by_touch_after_number(conv):
    conv.touch('checkin', '4714')
    out = conv.touch('checkin', 'Mustermann')
    assert of(out, eng.LookupAppointment) == [eng.LookupAppointment('4714', 'Mustermann')]


def test_checkin_too_early_names_the_time(conv):
    conv.touch('checkin', '4713 Öztürk')
    conv.engine.lookup_done(QueueResult.OK, conv._step(), 'auslaenderbehoerde')
    conv.drain()
    conv.engine.checkin_done(QueueResult.TOO_EARLY, conv._step(), appointment_time='2026-11-23T11:30:00')
    out = conv.drain()
    assert '11:30' in of(out, eng.Say)[0].text


@pytest.mark.parametrize('language', ['de', 'tr'])
def test_missing_queue_bridge_offers_info_desk(conv, language):
    conv.hear('randevu numaram 4711' if language == 'tr' else 'meine buchungsnummer ist 4711', language)
    out = conv.hear('Yılmaz' if language == 'tr' else 'Mustermann', language)
    assert of(out, eng.LookupAppointment)[0].name in ('Yılmaz', 'Mustermann')
    conv.engine.lookup_done(QueueResult.UNAVAILABLE, conv._step())
    out = conv.drain()
    assert conv.keys(out) == ['queue_unavailable'] and of(out, eng.Say)[0].language == language
    assert conv.state == 'confirming' and conv.engine.snapshot().target_id == 'info'
    out = conv.hear('evet' if language == 'tr' else 'ja', language)
    assert of(out, eng.StartEscort) == [eng.StartEscort('info', language)]


def test_ticket_flow_asks_for_department(conv):
    out = conv.hear('ich möchte eine wartenummer')
    assert conv.state == 'ticket' and conv.keys(out) == ['ticket_ask_target']
    assert 'meldestelle' in conv.engine.snapshot().choices and 'wc' not in conv.engine.snapshot().choices
    out = conv.hear('meldestelle')
    tickets = of(out, eng.DrawTicket)
    assert len(tickets) == 1 and tickets[0].target_id == 'meldestelle'
    conv.engine.ticket_done(QueueResult.OK, conv._step(), 'M042', 4, 15)
    out = conv.drain()
    assert 'M042' in of(out, eng.Say)[0].text and conv.engine.snapshot().display_number == 'M042'
    assert conv.state == 'confirming'
    out = conv.hear('nein danke')
    assert conv.state == 'farewell'


def test_ticket_closed_and_unavailable(conv):
    conv.touch('ticket', 'gewerbeamt')
    conv.engine.ticket_done(QueueResult.CLOSED, conv._step())
    assert conv.keys(conv.drain()) == ['ticket_closed'] and conv.state == 'listening'
    conv.touch('ticket', 'gewerbeamt')
    conv.engine.ticket_done(QueueResult.UNAVAILABLE, conv._step())
    assert conv.keys(conv.drain()) == ['queue_unavailable']


def test_ticket_for_a_place_without_queue_offers_the_way(conv):
    out = conv.touch('ticket', 'wc')
    assert conv.keys(out) == ['ticket_no_queue'] and conv.state == 'confirming'


def test_opening_hours_today_and_closed_day(conv):
    out = conv.hear('wann hat die meldestelle offen')
    assert '07:30' in of(out, eng.Say)[0].text and conv.state == 'listening'
    conv.wall = SUNDAY
    out = conv.hear('yabancılar dairesi çalışma saatleri', 'tr')
    assert conv.keys(out) == ['opening_hours_closed_today'] and of(out, eng.Say)[0].language == 'tr'


def test_staff_handoff_then_info_escort(conv):
    out = conv.hear('ich möchte mit einem mitarbeiter sprechen')
    assert conv.state == 'staff_handoff' and conv.keys(out) == ['staff_handoff']
    out = conv.touch('choice', 'yes')
    assert of(out, eng.StartEscort) == [eng.StartEscort('info', 'de')]


@pytest.mark.parametrize('request_text, state', [
    ('ich habe einen termin', 'checkin'),
    ('ich möchte eine wartenummer', 'ticket'),
    ('ich möchte meinen ausweis abholen', 'clarifying'),
])
def test_a_new_request_while_waiting_for_staff_is_taken_up(nlu, responses, request_text, state):
    """Waiting for staff, the visitor asks for something else: the robot goes on with it (this was a crash)."""
    c = Conversation(nlu, responses, confidence_threshold=0.95)
    c.hear('ich möchte mit einem mitarbeiter sprechen')
    assert c.state == 'staff_handoff'
    c.hear(request_text)
    assert c.state == state


def test_out_of_scope_offers_info(conv):
    out = conv.hear('ich möchte mein auto anmelden')
    assert conv.keys(out) == ['out_of_scope'] and conv.engine.snapshot().target_id == 'info'


def test_visitor_walking_away_resets_quietly(conv):
    conv.engine.approach(conv._step())
    conv.hear('wo ist das fundbüro')
    conv.engine.leave(conv._step())
    assert conv.state == 'idle' and conv.drain() == []


def test_visitor_leaving_during_escort_is_left_to_the_escort(conv):
    conv.hear('wo ist das fundbüro')
    conv.hear('ja')
    conv.engine.leave(conv._step())
    assert conv.state == 'escorting'


@pytest.mark.parametrize('outcome,key,state', [
    (EscortOutcome.VISITOR_LOST, 'visitor_lost', 'idle'),
    (EscortOutcome.NAVIGATION_FAILED, 'escort_failed', 'confirming'),
    (EscortOutcome.ESTOPPED, 'escort_stopped', 'idle'),
    (EscortOutcome.BUSY, 'escort_failed', 'confirming'),
])
def test_escort_outcomes(conv, outcome, key, state):
    conv.hear('wo ist die stadtkasse')
    conv.hear('ja')
    conv.engine.escort_done(outcome, conv._step())
    assert conv.keys(conv.drain()) == [key] and conv.state == state


def test_escort_server_missing(conv):
    conv.hear('tuvalet nerede', 'tr')
    conv.hear('evet', 'tr')
    conv.engine.escort_unavailable(conv._step())
    out = conv.drain()
    assert conv.keys(out) == ['escort_unavailable'] and 'tuvaletlere' in of(out, eng.Say)[0].text
    assert conv.state == 'listening'


def test_visitor_stops_the_escort(conv):
    conv.hear('wo ist der ausgang')
    conv.hear('ja')
    out = conv.hear('stopp')
    assert of(out, eng.CancelEscort) and conv.state == 'farewell'


def test_estop_cancels_escort_silently_and_blocks_input(conv):
    conv.hear('wo ist der ausgang')
    conv.hear('ja')
    conv.engine.set_estop(True, conv._step())
    out = conv.drain()
    assert of(out, eng.CancelEscort) and not of(out, eng.Say) and conv.state == 'idle'
    assert conv.hear('hallo') == [] and conv.state == 'idle'
    conv.engine.set_estop(False, conv._step())
    conv.hear('hallo')
    assert conv.state == 'greeting'


def test_takeover_silences_the_robot(conv):
    conv.engine.approach(conv._step())
    conv.drain()
    conv.engine.set_takeover(True, conv._step())
    assert conv.state == 'takeover' and conv.engine.snapshot().staff_takeover
    assert conv.hear('wo ist das klo') == [] and conv.engine.snapshot().last_user_text == 'wo ist das klo'
    conv.engine.set_takeover(False, conv._step())
    assert conv.state == 'listening' and conv.keys(conv.drain()) == ['anything_else']


def test_touch_only_conversation(conv):
    conv.touch('start', language='tr')
    assert conv.state == 'greeting'
    out = conv.touch('target', 'standesamt', 'tr')
    assert conv.state == 'confirming' and of(out, eng.Say)[0].language == 'tr'
    out = conv.touch('choice', 'yes')
    assert of(out, eng.StartEscort) == [eng.StartEscort('standesamt', 'tr')]
    out = conv.touch('cancel')
    assert of(out, eng.CancelEscort) and conv.state == 'idle'


def test_touch_typed_text_and_goodbye(conv):
    conv.touch('start')
    conv.touch('text', 'wo ist die infotheke')
    assert conv.state == 'confirming' and conv.engine.snapshot().target_id == 'info'
    conv.hear('tschüss')
    assert conv.state == 'farewell'


def test_reset_from_anywhere(conv):
    conv.hear('wo ist der ausgang')
    conv.hear('ja')
    conv.engine.do_reset(conv._step())
    assert of(conv.drain(), eng.CancelEscort) and conv.state == 'idle'


def test_every_state_is_reachable_and_named_as_documented():
    assert set(eng.STATES) == {'idle', 'greeting', 'listening', 'clarifying', 'confirming', 'checkin', 'ticket',
                               'escorting', 'arrived', 'farewell', 'returning', 'staff_handoff', 'takeover'}
    destinations = {t['dest'] for t in eng.TRANSITIONS}
    assert destinations == set(eng.STATES)


def test_state_diagram_renders(tmp_path):
    out = diagram.export_diagram(str(tmp_path / 'states.png'))
    data = (tmp_path / 'states.png').read_bytes()
    assert out.endswith('.png') and data[:8] == b'\x89PNG\r\n\x1a\n'


@pytest.mark.parametrize('text', ['', '   ', '?!', '...', '🙂', '\x00\x01'])
def test_nothing_said_gets_no_answer(conv, text):
    assert conv.hear(text) == [] and conv.state == 'idle'
    conv.hear('wo ist das klo')
    assert conv.hear(text, 'tr') == [] and conv.state == 'confirming'


@pytest.mark.parametrize('language, request_text, nonsense', [
    ('de', 'wo ist das klo', 'blorf quax zibbel'),
    ('tr', 'tuvalet nerede', 'blorf quax zibbel'),
])
def test_answers_the_robot_cannot_use_are_bounded_then_the_info_desk_is_offered(conv, language, request_text,
                                                                                  nonsense):
    conv.hear(request_text, language)
    assert conv.state == 'confirming'
    assert [conv.keys(conv.hear(nonsense, language)) for _ in range(2)] == [['reprompt_confirm']] * 2
    out = conv.hear(nonsense, language)
    assert conv.keys(out) == ['not_understood_info'] and of(out, eng.Say)[0].language == language
    assert conv.state == 'confirming' and conv.engine.session.offer_target == 'info'
    for _ in range(2):
        conv.hear(nonsense, language)
    out = conv.hear(nonsense, language)
    assert conv.keys(out) == ['farewell'] and conv.state == 'farewell'


def test_an_understood_answer_starts_the_count_again(conv):
    conv.hear('ich möchte eine wartenummer')
    assert conv.state == 'ticket'
    for _ in range(2):
        assert conv.keys(conv.hear('blorf quax')) == ['reprompt_ticket']
    conv.hear('wann haben sie geöffnet')  # understood: opening hours
    assert conv.keys(conv.hear('blorf quax')) != ['not_understood_info']


@pytest.mark.parametrize('language, request_text, state, reprompt', [
    ('de', 'wo ist das klo', 'confirming', 'reprompt_confirm'),
    ('tr', 'tuvalet nerede', 'confirming', 'reprompt_confirm'),
    ('de', 'ich möchte eine wartenummer', 'ticket', 'reprompt_ticket'),
    ('tr', 'sıra numarası almak istiyorum', 'ticket', 'reprompt_ticket'),
    ('de', 'ich habe einen termin', 'checkin', 'reprompt_checkin'),
    ('tr', 'randevum var', 'checkin', 'reprompt_checkin'),
])
def test_silence_is_bounded_in_every_asking_state_and_language(conv, language, request_text, state, reprompt):
    conv.hear(request_text, language)
    assert conv.state == state
    for _ in range(2):
        out = conv.wait(12.5)
        assert conv.keys(out) == [reprompt] and of(out, eng.Say)[0].language == language
    out = conv.wait(12.5)
    assert conv.keys(out) == ['farewell'] and conv.state == 'farewell'
    conv.wait(5)
    assert conv.state == 'idle'


# -- asking instead of guessing (issue 13) --------------------------------------------------------------------
def test_two_choice_question_answered_by_voice_turkish(nlu, responses):
    c = Conversation(nlu, responses)
    u = nlu.understand('kimliğimi almak istiyorum', 'tr')
    assert sorted(u.clarify) == ['abholterminal', 'pass_ausweis']  # the counter or the 24/7 terminal?
    out = c.hear('kimliğimi almak istiyorum', 'tr')
    assert c.state == 'clarifying' and c.keys(out) == ['clarify_two']
    snap = c.engine.snapshot()
    assert snap.candidates == u.clarify and snap.choices == [*u.clarify, 'none']  # both as buttons
    said = of(out, eng.Say)[0].text
    assert "Pasaport ve Kimlik Bürosu'na" in said and "Kimlik Teslim Terminali'ne" in said
    c.hear('teslim terminali', 'tr')
    assert c.state == 'confirming' and c.engine.snapshot().target_id == 'abholterminal'


def test_two_choice_question_answered_by_touch_german(nlu, responses):
    c = Conversation(nlu, responses, confidence_threshold=0.95)
    out = c.hear('ich möchte meinen ausweis abholen')
    assert c.state == 'clarifying' and c.keys(out) == ['clarify_two']
    assert of(out, eng.Say)[0].text in (
        'Möchten Sie zur Pass- und Ausweisstelle oder zum Abholterminal für Ausweise?',
        'Möchten Sie zum Abholterminal für Ausweise oder zur Pass- und Ausweisstelle?')
    c.touch('choice', 'pass_ausweis')
    assert c.state == 'confirming' and c.engine.snapshot().target_id == 'pass_ausweis'
    out = c.touch('choice', 'yes')
    assert of(out, eng.StartEscort) == [eng.StartEscort('pass_ausweis', 'de')]


def test_two_choice_question_is_asked_again_after_silence(nlu, responses):
    c = Conversation(nlu, responses)
    c.hear('kimliğimi almak istiyorum', 'tr')
    assert c.state == 'clarifying'
    out = c.wait(13.0)
    assert c.keys(out) == ['reprompt_clarify'] and c.state == 'clarifying'
    c.engine.set_language('de', c._step())
    assert c.keys(c.drain()) == ['clarify_two']


@pytest.mark.parametrize('text, lang, target', [
    ('wo ist das abholterminal', 'de', 'abholterminal'),
    ('zur pass- und ausweisstelle bitte', 'de', 'pass_ausweis'),
    ('kimlik teslim terminali nerede', 'tr', 'abholterminal'),
    ('where is the registry office', 'en', 'standesamt'),
])
def test_a_department_named_explicitly_is_offered_without_asking(nlu, responses, text, lang, target):
    c = Conversation(nlu, responses)
    out = c.hear(text, lang)
    assert c.state == 'confirming' and c.engine.snapshot().target_id == target and c.keys(out) == ['confirm_escort']


def test_english_conversation_end_to_end(nlu, responses):
    c = Conversation(nlu, responses)
    c.engine.approach(c._step())
    c.drain()
    out = c.hear('where can I extend my visa', '')  # no language from the speech layer: detected
    assert c.state == 'confirming' and c.engine.snapshot().language == 'en'
    assert of(out, eng.Say)[0].text == 'Shall I take you to the immigration office?'
    out = c.hear('yes please', 'en')
    assert of(out, eng.StartEscort) == [eng.StartEscort('auslaenderbehoerde', 'en')]
    assert of(out, eng.Say)[0].language == 'en'


def test_switching_to_english_and_back(nlu, responses):
    c = Conversation(nlu, responses)
    c.hear('hallo')
    out = c.hear('können wir englisch sprechen')
    assert c.engine.snapshot().language == 'en' and c.keys(out) == ['greeting']  # greeted again, in English
    assert c.engine.set_language('en', c._step()) and c.engine.set_language('tr', c._step())
    assert c.engine.snapshot().language == 'tr' and not c.engine.set_language('xx', c._step())


def test_the_next_visitor_after_a_goodbye_begins_a_new_conversation(conv):
    conv.hear('ich möchte eine wartenummer')
    conv.hear('meldestelle')
    conv.engine.ticket_done(QueueResult.OK, conv._step(), 'M042', 4, 15)
    first = conv.engine.snapshot().session_id
    out = conv.hear('nein danke')
    assert conv.state == 'farewell' and {s.conversation for s in of(out, eng.Say)} == {first}
    out = conv.hear('merhaba', 'tr')  # the next visitor, before the farewell timed out
    snap = conv.engine.snapshot()
    assert conv.state == 'greeting' and snap.session_id not in ('', first)
    assert snap.display_number == '' and snap.language == 'tr' and snap.target_id == ''
    assert [s.conversation for s in of(out, eng.Say)] == [snap.session_id]


def test_a_request_while_returning_home_is_a_new_conversation_and_the_robot_still_goes_home(conv):
    conv.hear('Ich brauche einen neuen Personalausweis')
    conv.hear('ja gerne')
    first = conv.engine.snapshot().session_id
    conv.engine.escort_done(EscortOutcome.ARRIVED, conv._step())
    conv.wait(10)
    assert conv.state == 'returning' and conv.engine.snapshot().session_id == first
    out = conv.hear('wo ist die Toilette')
    assert conv.engine.snapshot().session_id not in ('', first) and conv.state != 'returning'
    assert {s.conversation for s in of(out, eng.Say)} == {conv.engine.snapshot().session_id}
    conv.hear('nein danke')
    out = conv.wait(5)
    assert conv.state == 'returning' and conv.keys(out) == ['returning']


def test_a_question_after_arrival_keeps_the_escorted_visitors_conversation(conv):
    conv.hear('Ich brauche einen neuen Personalausweis')
    conv.hear('ja gerne')
    first = conv.engine.snapshot().session_id
    conv.engine.escort_done(EscortOutcome.ARRIVED, conv._step())
    conv.hear('wo ist die Toilette')
    assert conv.engine.snapshot().session_id == first


# -- the recogniser's confidence ---------------------------------------------------------------------------------
def _spoken(conv, text, confidence, source='whisper'):
    conv.engine.hear(text, 'de', conv._step(), source, confidence)
    return conv.drain()


def test_unsure_recognition_is_not_acted_on_but_asked_again(conv):
    conv.engine.approach(0.0)
    conv.drain()
    out = _spoken(conv, 'Ich brauche einen neuen Personalausweis', 0.2)
    assert conv.state == 'listening' and conv.keys(out) == ['not_understood'] and not of(out, eng.StartEscort)
    out = _spoken(conv, 'Ich brauche einen neuen Personalausweis', 0.9)
    assert conv.state == 'confirming' and 'zur Pass- und Ausweisstelle' in of(out, eng.Say)[0].text


def test_half_sure_recognition_of_a_place_asks_between_the_two_likeliest(conv):
    conv.engine.approach(0.0)
    conv.drain()
    _spoken(conv, 'ich möchte meinen ausweis abholen', 0.4)
    assert conv.state == 'clarifying'
    assert sorted(conv.engine.snapshot().candidates) == ['abholterminal', 'pass_ausweis']


def test_touch_and_typed_text_are_taken_whatever_the_confidence_field(conv):
    conv.engine.approach(0.0)
    conv.drain()
    _spoken(conv, 'Ich brauche einen neuen Personalausweis', 0.0, source='typed')
    assert conv.state == 'confirming'

"""The office day in the conversation (issue 16), on the pure engine with a fake clock: closing notices,
public holidays, and escorts refused by the office (low battery) or by the escort."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
import re

import pytest

from l2b2_common.codes import EscortOutcome, QueueResult
from l2b2_dialogue import engine as eng
from l2b2_office.day_cycle import DayCycleSettings, OfficeCalendar
from l2b2_office.office_config import load_office_config

from .test_engine import Conversation, of

# Meldestelle on Mondays: 07:30-12:00 and 14:00-16:00; 15 minutes' notice, 10 minutes still served.
MONDAY = date(2026, 11, 23)
CHRISTMAS = date(2026, 12, 25)  # a Friday, a public holiday in config/office.yaml


def at(hour, minute, day=MONDAY):
    return datetime(day.year, day.month, day.day, hour, minute)


@pytest.fixture
def office(nlu, responses):
    """A conversation on the real office calendar (config/office.yaml), at Monday 11:50."""
    conv = Conversation(nlu, responses)
    config = load_office_config()
    conv.engine.calendar = OfficeCalendar.from_catalog(nlu.catalog, config.holidays, config.tz)
    conv.engine.day_cycle = config.day_cycle
    conv.wall = at(11, 50)
    return conv


@pytest.fixture
def conv(nlu, responses):
    return Conversation(nlu, responses)


def text(out):
    return ' '.join(s.text for s in of(out, eng.Say))


# -- closing notices ----------------------------------------------------------------------------------------
def test_escort_offer_tells_the_department_closes_soon_and_still_takes_the_visitor(office):
    out = office.hear('wo ist die meldestelle')
    assert office.state == 'confirming' and office.keys(out) == ['confirm_escort']
    assert text(out) == ('Die Meldestelle schließt heute um 12:00 Uhr; Sie werden heute noch bedient. '
                         'Soll ich Sie zur Meldestelle bringen?')
    office.hear('nein')
    out = office.hear('zur meldestelle bitte')  # told once per conversation
    assert text(out) == 'Soll ich Sie zur Meldestelle bringen?'


@pytest.mark.parametrize('language, request_text, notice', [
    ('de', 'wo ist das standesamt', 'Das Standesamt schließt in wenigen Minuten, um 12:00 Uhr, und nimmt heute '
                                    'niemanden mehr an.'),
    ('tr', 'evlendirme dairesi nerede', 'Evlendirme ve Nüfus Dairesi birkaç dakika içinde, saat 12:00 itibarıyla '
                                        'kapanıyor ve bugün artık kimseyi kabul etmiyor.'),
    ('en', 'where is the registry office', 'The registry office closes in a few minutes, at 12:00, and is not '
                                           'seeing anyone else today.'),
])
def test_a_department_closing_in_minutes_takes_nobody_more_in_every_language(office, language, request_text, notice):
    office.wall = at(11, 55)
    out = office.hear(request_text, language)
    said = of(out, eng.Say)
    assert len(said) == 1 and said[0].language == language and said[0].text.startswith(notice)
    assert office.state == 'confirming' and office.engine.snapshot().target_id == 'standesamt'


def test_a_ticket_tells_the_department_closes_soon(office):
    office.wall = at(11, 48)
    office.hear('I would like a waiting number', 'en')
    office.hear('residents registration', 'en')
    office.engine.ticket_done(QueueResult.OK, office._step(), 'M042', 4, 15)
    said = of(office.drain(), eng.Say)[0]
    assert said.language == 'en' and said.text.startswith(
        "The residents' registration office closes at 12:00 today; you will still be seen today. "
        'Your waiting number is M042.')
    assert office.state == 'confirming' and office.engine.snapshot().target_id == 'wartebereich'


def test_a_checkin_tells_the_appointments_department_closes_soon(office):
    office.wall = at(11, 57)
    office.touch('checkin', '4713 Öztürk', 'tr')
    office.engine.lookup_done(QueueResult.OK, office._step(), 'auslaenderbehoerde')
    office.drain()
    office.engine.checkin_done(QueueResult.OK, office._step(), 'A07', 3)
    said = of(office.drain(), eng.Say)[0]
    assert said.text.startswith('Yabancılar Dairesi birkaç dakika içinde, saat 12:00 itibarıyla kapanıyor')
    assert 'A07' in said.text and said.language == 'tr'


@pytest.mark.parametrize('wall, request_text', [
    (at(10, 0), 'wo ist die meldestelle'),       # hours left
    (at(12, 5), 'wo ist die meldestelle'),       # closed already (until 14:00): no "closes soon"
    (at(11, 50), 'wo sind die toiletten'),       # open around the clock
    (at(11, 50), 'wo ist die infotheke'),        # the info desk is no department to be served at
    (at(11, 50, CHRISTMAS), 'wo ist die meldestelle'),  # a public holiday: closed all day
])
def test_no_closing_notice_otherwise(office, wall, request_text):
    office.wall = wall
    out = office.hear(request_text)
    assert office.keys(out) == ['confirm_escort'] and text(out).startswith('Soll ich Sie')


def test_without_a_calendar_there_is_no_closing_notice(nlu, responses):
    conv = Conversation(nlu, responses)
    conv.wall = at(11, 55)
    assert text(conv.hear('wo ist die meldestelle')) == 'Soll ich Sie zur Meldestelle bringen?'


def test_notice_minutes_come_from_the_settings(office):
    office.engine.day_cycle = DayCycleSettings(closing_notice_minutes=5.0, min_service_minutes=2.0)
    office.wall = at(11, 54)
    assert text(office.hear('wo ist die meldestelle')).startswith('Soll ich Sie')
    office.engine.do_reset(office._step())
    office.wall = at(11, 56)
    assert 'Sie werden heute noch bedient' in text(office.hear('wo ist die meldestelle'))


# -- public holidays --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('language, request_text, key, fragment', [
    ('de', 'hat die meldestelle heute offen', 'opening_hours_closed_holiday', 'wegen eines Feiertags geschlossen'),
    ('de', 'wann haben sie heute geöffnet', 'office_closed_holiday', 'Heute ist Feiertag'),
    ('tr', 'yabancılar dairesi çalışma saatleri', 'opening_hours_closed_holiday', 'resmî tatil nedeniyle kapalı'),
    ('en', 'when is the registry office open today', 'opening_hours_closed_holiday', 'public holiday'),
])
def test_opening_hours_on_a_public_holiday_say_closed(office, language, request_text, key, fragment):
    office.wall = at(10, 0, CHRISTMAS)
    out = office.hear(request_text, language)
    assert office.keys(out) == [key] and fragment in text(out)
    assert of(out, eng.Say)[0].language == language and office.state == 'listening'


def test_the_same_weekday_without_a_holiday_has_its_hours(office):
    office.wall = at(10, 0, date(2026, 12, 18))  # the Friday before
    out = office.hear('hat die meldestelle heute offen')
    assert office.keys(out) == ['opening_hours_today'] and '07:30' in text(out)


def test_the_holidays_are_those_of_config_office_yaml():
    holidays = load_office_config().holidays
    assert CHRISTMAS in holidays and date(2026, 12, 18) not in holidays


def test_24_7_places_stay_open_on_a_holiday(office):
    office.wall = at(10, 0, CHRISTMAS)
    out = office.hear('wann hat das abholterminal offen')
    assert office.keys(out) == ['opening_hours_always']


# -- escorts refused ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize('language, request_text, expected', [
    ('de', 'wo ist das standesamt', 'Ich kann Sie gerade nicht begleiten, mein Akku muss geladen werden. Den Weg zum '
                                    'Standesamt zeigt Ihnen der Bildschirm, und die Infotheke hilft Ihnen auch gerne.'),
    ('tr', 'tuvalet nerede', 'Şu anda size eşlik edemiyorum, bataryamın şarj edilmesi gerekiyor. Tuvaletlere giden '
                             'yolu ekranda görebilirsiniz; danışma da size memnuniyetle yardımcı olur.'),
    ('en', 'where is the exit', "I can't walk with you right now, my battery needs charging. The way to the exit is "
                                'shown on the screen, and the information desk will be glad to help too.'),
])
def test_low_battery_no_escort_is_offered_the_way_is_shown(conv, language, request_text, expected):
    conv.engine.office_status(False, 'battery_low', conv._step())
    out = conv.hear(request_text, language)
    assert conv.keys(out) == ['escort_refused_battery'] and not of(out, eng.StartEscort)
    said = of(out, eng.Say)[0]
    assert said.language == language and said.text == expected
    snap = conv.engine.snapshot()
    assert conv.state == 'listening' and snap.target_id in ('standesamt', 'wc', 'ausgang')
    assert snap.choices != ['yes', 'no']


def test_other_refusals_give_no_battery_reason(conv):
    conv.engine.office_status(False, 'dock_now', conv._step())
    out = conv.hear('wo ist das standesamt')
    assert conv.keys(out) == ['escort_refused'] and text(out).startswith('Ich kann Sie gerade leider nicht begleiten.')


def test_refused_checkin_and_ticket_answers_have_no_escort_question(conv):
    conv.engine.office_status(False, 'battery_critical', conv._step())
    conv.touch('checkin', '4711 Mustermann')
    conv.engine.lookup_done(QueueResult.OK, conv._step(), 'meldestelle')
    conv.drain()
    conv.engine.checkin_done(QueueResult.OK, conv._step(), 'M11', 9)
    out = conv.drain()
    assert conv.keys(out) == ['checkin_ok_no_escort'] and conv.state == 'listening'
    assert text(out) == ('Vielen Dank, Sie sind angemeldet. Ihre Aufrufnummer ist M11. Die Wartezeit beträgt etwa 9 '
                         'Minuten. Ich kann Sie gerade nicht begleiten, mein Akku muss geladen werden. Den Weg zum '
                         'Wartebereich zeigt Ihnen der Bildschirm, und die Infotheke hilft Ihnen auch gerne.')
    conv.engine.lookup_done(QueueResult.UNAVAILABLE, conv._step())  # (a late answer: ignored)
    assert conv.drain() == []


def test_refused_info_desk_offer_shows_the_way_to_the_desk(conv):
    conv.engine.office_status(False, 'battery_low', conv._step())
    out = conv.hear('ich möchte mein auto zulassen')
    assert conv.keys(out) == ['out_of_scope_no_escort'] and conv.state == 'listening'
    assert text(out).endswith('Den Weg zur Infotheke zeigt Ihnen der Bildschirm.')


def test_escorts_refused_after_the_offer_are_not_started(conv):
    conv.hear('wo ist die stadtkasse')
    assert conv.state == 'confirming'
    conv.engine.office_status(False, 'battery_low', conv._step())
    out = conv.hear('ja')
    assert not of(out, eng.StartEscort) and conv.keys(out) == ['escort_refused_battery']
    assert conv.state == 'listening' and 'zur Stadtkasse' in text(out)


def test_escorts_offered_again_once_accepted(conv):
    conv.engine.office_status(False, 'battery_low', conv._step())
    conv.hear('wo ist die stadtkasse')
    conv.engine.office_status(True, '', conv._step())
    out = conv.hear('wo ist die stadtkasse')
    assert conv.keys(out) == ['confirm_escort'] and conv.state == 'confirming'
    out = conv.hear('ja')
    assert of(out, eng.StartEscort) == [eng.StartEscort('kasse', 'de')]


@pytest.mark.parametrize('office_reason, key', [('', 'escort_refused_battery'), ('battery_low', 'escort_refused_battery'),
                                                 ('staff_dock_now', 'escort_refused')])
def test_the_escort_refusing_tells_why_and_shows_the_way(conv, office_reason, key):
    conv.hear('wo ist die stadtkasse')
    conv.hear('ja')
    assert conv.state == 'escorting'
    if office_reason:  # the office's status came while the goal was on its way
        conv.engine.office_status(False, office_reason, conv._step())
    conv.engine.escort_done(EscortOutcome.NOT_ACCEPTING, conv._step())
    out = conv.drain()
    assert conv.keys(out) == [key] and conv.state == 'listening'
    assert 'Den Weg zur Stadtkasse zeigt Ihnen der Bildschirm' in text(out)
    assert conv.engine.snapshot().target_id == 'kasse' and not conv.engine.session.escorted


def test_every_escort_offer_has_a_sentence_without_its_question(responses):
    """While escorts are refused, ``_offer(..., key=K)`` says ``K_no_escort``: every K offered must have one."""
    source = ''.join(p.read_text(encoding='utf-8') for p in Path(eng.__file__).parent.glob('*.py'))
    keys = set(re.findall(r"_offer\([^)]*?key='(\w+)'", source, re.S))
    assert {'ticket_ok', 'queue_unavailable', 'ticket_no_queue', 'escort_failed', 'not_understood_info'} <= keys
    keys |= {'checkin_ok', 'checkin_already'}  # (chosen by the check-in's result)
    for lang, texts in responses.by_language.items():
        for key in keys:
            assert f'{key}_no_escort' in texts.texts, (lang, key)
            assert '?' not in texts.texts[f'{key}_no_escort'], (lang, key)

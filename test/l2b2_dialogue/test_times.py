"""Spoken and written appointment times in German and Turkish (l2b2_dialogue.times)."""
from __future__ import annotations

import pytest

from l2b2_dialogue.times import find_time, time_of_day


@pytest.mark.parametrize('text,expected', [
    ('um halb elf', '10:30'),
    ('viertel nach neun', '09:15'),
    ('viertel vor zwölf', '11:45'),
    ('dreiviertel zwölf', '11:45'),
    ('viertel elf', '10:15'),
    ('um 14 Uhr 30', '14:30'),
    ('vierzehn Uhr dreißig', '14:30'),
    ('zehn Uhr', '10:00'),
    ('um zehn', '10:00'),
    ('14:30', '14:30'),
    ('14.30 Uhr', '14:30'),
    ('um 9 uhr', '09:00'),
    ('zehn nach neun', '09:10'),
    ('fünf vor halb elf', '10:25'),
    ('halb eins', '12:30'),
    ('viertel vor eins', '12:45'),
    ('neun uhr fünfundvierzig', '09:45'),
])
def test_german_times(text, expected):
    assert time_of_day(text) == expected


@pytest.mark.parametrize('text,expected', [
    ('saat on dörtte', '14:00'),
    ('saat on dortte', '14:00'),        # ASR without Turkish letters
    ('on buçukta', '10:30'),
    ('dokuzu çeyrek geçe', '09:15'),
    ('on ikiye çeyrek kala', '11:45'),
    ('14.30', '14:30'),
    ("saat 14'te", '14:00'),
    ("14.30'da", '14:30'),
    ('saat 9', '09:00'),
    ('saat on dört otuzda', '14:30'),
    ('dokuzu on geçe', '09:10'),
    ('sekizi yirmi geçe', '08:20'),
    ('ona beş kala', '09:55'),
    ('saat onda', '10:00'),
    ('saat on birde', '11:00'),
])
def test_turkish_times(text, expected):
    assert time_of_day(text) == expected


@pytest.mark.parametrize('text,expected', [
    ('saat ikide', '14:00'), ('ikide', '14:00'), ('saat üçte', '15:00'), ('ikiye beş kala', '13:55'),
    ('um zwei', '14:00'), ('um halb drei', '14:30'), ('vier uhr', '16:00'), ('2:30', '14:30'),
    # Said otherwise: a morning word, a leading zero, an evening word for later hours.
    ('sabah ikide', '02:00'), ('morgens um zwei', '02:00'), ('02:30', '02:30'), ('abends um acht', '20:00'),
    ('akşam sekizde', '20:00'), ('saat yedide', '07:00'), ('um sieben', '07:00'),
    ('öğleden sonra saat yedide', '19:00'), ('öğleden önce saat altıda', '06:00'),
])
def test_hours_one_to_six_are_afternoon_unless_said_otherwise(text, expected):
    assert time_of_day(text) == expected


@pytest.mark.parametrize('text', [
    'meine nummer ist 4711', 'vier sieben eins eins', 'um vier sieben eins eins', 'randevu numaram 47 11',
    'um ein paar minuten', 'onu arıyorum', 'ona söyle', 'bir de kimlik', 'kostet 3.50 euro', 'am 14.05.2026',
    'ich brauche einen neuen reisepass', 'kimliğimi kaybettim', 'die zweite bitte', 'halb so schlimm',
    'wo ist das stadtviertel büro', '',
])
def test_no_time_where_none_is_said(text):
    assert time_of_day(text) is None


def test_the_rest_of_the_text_keeps_other_numbers():
    found = find_time('termin um 10:30, nummer 4711')
    assert found.text == '10:30' and '4711' in found.rest and '10' not in found.rest.replace('4711', '')


@pytest.mark.parametrize('text,lang,expected', [
    ('ich habe einen termin um halb elf', 'de', '10:30'),
    ('mein termin ist um viertel nach neun', 'de', '09:15'),
    ('ich habe um 14 Uhr 30 einen Termin', 'de', '14:30'),
    ('saat on dörtte randevum var', 'tr', '14:00'),
    ('on buçukta randevum var', 'tr', '10:30'),
    ('dokuzu çeyrek geçe randevum var', 'tr', '09:15'),
    ('on ikiye çeyrek kala randevum var', 'tr', '11:45'),
    ('randevum saat 14.30', 'tr', '14:30'),
])
def test_appointment_time_slot(nlu, text, lang, expected):
    r = nlu.understand(text, lang)
    assert r.intent == 'appointment_checkin' and r.slots['time'] == expected
    assert 'booking_number' not in r.slots


def test_a_time_is_not_a_booking_number_but_a_number_beside_it_is(nlu):
    r = nlu.understand('ich habe einen termin um 10:30 bei der meldestelle', 'de')
    assert r.slots['time'] == '10:30' and 'booking_number' not in r.slots and r.target == 'meldestelle'
    r = nlu.understand('termin um 10:30, buchungsnummer 4711', 'de')
    assert r.slots == {'time': '10:30', 'booking_number': '4711'}
    r = nlu.understand('saat on buçukta randevum var numaram dört yedi bir bir', 'tr')
    assert r.slots == {'time': '10:30', 'booking_number': '4711'}

"""Understanding German and Turkish as ASR writes it: intents, targets, slots, language, confidence."""
from __future__ import annotations

import json

import pytest

from l2b2_dialogue import bench
from l2b2_dialogue.catalog_words import name_from_text
from l2b2_dialogue.intent_cli import main as intent_main
from l2b2_dialogue.nlu import INTENTS, Understander


@pytest.mark.parametrize('text,lang,target', [
    ('Wo ist das Klo?', 'de', 'wc'),
    ('personalausweisverlaengerung', 'de', 'pass_ausweis'),
    ('mein perso ist abgelaufen', 'de', 'pass_ausweis'),
    ('Eheschließung - Anmeldung - ohne Auslandsbeteiligung', 'de', 'standesamt'),
    ('ich moechte mich ummelden', 'de', 'meldestelle'),
    ('fuehrungszeugnis', 'de', 'meldestelle'),
    ('auslaenderbehoerde', 'de', 'auslaenderbehoerde'),
    ('ich will aus der kirche austreten', 'de', 'standesamt'),
    ('bewohnerparkausweis', 'de', 'parkausweis'),
    ('ich habe meinen ausweis verloren', 'de', 'pass_ausweis'),
    ('ich habe meinen regenschirm verloren', 'de', 'fundbuero'),
    ('ich will meinen ausweis abholen', 'de', 'abholterminal'),
    ('kimliğimi kaybettim', 'tr', 'pass_ausweis'),
    ('kimligimi kaybettim', 'tr', 'pass_ausweis'),
    ('pasaportumu yenilemek istiyorum', 'tr', 'pass_ausweis'),
    ('cüzdanımı kaybettim', 'tr', 'fundbuero'),
    ('dogum belgesi', 'tr', 'standesamt'),
    ('ausländerbehörde nerede', 'tr', 'auslaenderbehoerde'),
    ('tuvalet nerede', 'tr', 'wc'),
    ('çıkış nerede', 'tr', 'ausgang'),
])
def test_escort_targets(nlu, text, lang, target):
    r = nlu.understand(text, lang)
    assert (r.intent, r.target) == ('escort', target)
    assert 0.6 <= r.confidence <= 1.0


@pytest.mark.parametrize('text,lang,intent', [
    ('hallo', 'de', 'greeting'), ('merhaba', 'tr', 'greeting'),
    ('auf wiedersehen', 'de', 'goodbye'), ('hoşça kal', 'tr', 'goodbye'),
    ('ja bitte', 'de', 'affirm'), ('evet', 'tr', 'affirm'),
    ('nein danke', 'de', 'deny'), ('hayır', 'tr', 'deny'),
    ('sprechen sie türkisch', 'de', 'language_switch'), ('almanca lütfen', 'tr', 'language_switch'),
    ('ich möchte mit einem mitarbeiter sprechen', 'de', 'staff_help'), ('yetkili biri var mı', 'tr', 'staff_help'),
    ('wer bist du', 'de', 'smalltalk'), ('nasılsın', 'tr', 'smalltalk'),
    ('ich habe einen termin', 'de', 'appointment_checkin'), ('randevum var', 'tr', 'appointment_checkin'),
    ('ich möchte eine wartenummer', 'de', 'ticket'), ('randevum yok', 'tr', 'ticket'),
    ('wie sind die öffnungszeiten', 'de', 'opening_hours'), ('çalışma saatleriniz nedir', 'tr', 'opening_hours'),
    ('wo kann ich eine pizza bestellen', 'de', 'out_of_scope'), ('otobüs ne zaman geliyor', 'tr', 'out_of_scope'),
])
def test_intents(nlu, text, lang, intent):
    r = nlu.understand(text, lang)
    assert r.intent == intent and r.intent in INTENTS


@pytest.mark.parametrize('text,lang,number', [
    ('vier sieben eins eins', 'de', '4711'),
    ('dört yedi bir bir', 'tr', '4711'),
    ('kırk yedi on iki', 'tr', '4712'),
    ('siebenundvierzig dreizehn', 'de', '4713'),
    ('meine buchungsnummer ist 4714', 'de', '4714'),
    ('randevu numaram 47 11', 'tr', '4711'),
])
def test_booking_number_slot(nlu, text, lang, number):
    r = nlu.understand(text, lang)
    assert r.intent == 'appointment_checkin' and r.slots['booking_number'] == number


def test_articles_are_not_booking_numbers(nlu):
    assert 'booking_number' not in nlu.understand('ich habe ein termin', 'de').slots
    assert 'booking_number' not in nlu.understand('bir randevum var', 'tr').slots


def test_time_and_target_slots(nlu):
    r = nlu.understand('ich habe einen termin um 10:30 bei der meldestelle', 'de')
    assert r.intent == 'appointment_checkin' and r.slots['time'] == '10:30' and r.target == 'meldestelle'
    assert nlu.understand('termin um 9 uhr', 'de').slots['time'] == '09:00'
    assert nlu.understand('saat 14 randevum var', 'tr').slots['time'] == '14:00'


def test_language_switch_names_the_target_language(nlu):
    assert nlu.understand('können wir türkisch sprechen', 'de').slots['language'] == 'tr'
    assert nlu.understand('deutsch bitte', 'tr').slots['language'] == 'de'


def test_ordinal_slot(nlu):
    assert nlu.understand('die zweite', 'de').slots['ordinal'] == 1
    assert nlu.understand('birincisi', 'tr').slots['ordinal'] == 0


@pytest.mark.parametrize('text,lang', [
    ('wo ist die toilette bitte', 'de'), ('ich brauche einen neuen reisepass', 'de'),
    ('tuvalet nerede', 'tr'), ('kimliğimi kaybettim', 'tr'), ('randevum var', 'tr'), ('hallo', 'de'),
    ('ich habe einen termin', 'de'), ('pasaport başvurusu yapmak istiyorum', 'tr'),
])
def test_language_detection(nlu, text, lang):
    assert nlu.detect_language(text) == lang
    assert nlu.understand(text).language == lang


def test_ambiguous_request_has_ranked_candidates(nlu):
    r = nlu.understand('ich möchte meinen ausweis abholen', 'de')
    targets = [t for t, _ in r.candidates]
    assert targets[0] == 'abholterminal' and 'pass_ausweis' in targets
    # Candidates carry the combined confidence (mean of rules and model); the answer's confidence is the
    # higher of the two when they agree, so never below its candidate's.
    assert r.candidates[0][1] >= r.candidates[1][1] and r.confidence >= r.candidates[0][1] - 0.05


def test_every_catalog_target_is_reachable_by_name(nlu):
    for target in nlu.catalog.targets.values():
        for lang in ('de', 'tr'):
            r = nlu.understand(target.name[lang], lang)
            assert r.target == target.id, (lang, target.name[lang], r)


def test_development_set_stays_understood(nlu):
    examples = bench.load_examples(bench.DEV_FILE)
    assert sum(e.language == 'de' for e in examples) >= 150 and sum(e.language == 'tr' for e in examples) >= 150
    # Understood: answered right, or asked a two-choice question that offers the right place.
    outcomes = [(e, bench.outcome(e, nlu.understand(e.text, e.language), nlu.threshold)) for e in examples]
    wrong = [(e.text, kind) for e, kind in outcomes if kind not in ('right', 'asked_right')]
    # At most 1.5 %: the dev set holds blind batches whose last hard cases the rules do not all fit (34 of 2920 on
    # 2026-12-06); a change to the rules that breaks what they understood shows here.
    assert len(wrong) <= len(examples) * 3 // 200, wrong


def test_intent_cli_prints_one_json_object(capsys):
    assert intent_main(['--lang', 'tr', 'kimliğimi', 'kaybettim']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {'intent': 'escort', 'target': 'pass_ausweis', 'confidence': out['confidence'], 'language': 'tr',
                   'slots': {}, 'source': out['source']}
    assert 0.6 <= out['confidence'] <= 1.0 and out['source'] in ('rules', 'learned', 'both')


def test_intent_cli_reads_stdin(capsys, monkeypatch):
    import io
    monkeypatch.setattr('sys.stdin', io.StringIO('wo ist das klo\n\nvier sieben eins eins\n'))
    assert intent_main(['-']) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x['intent'] for x in lines] == ['escort', 'appointment_checkin']
    assert lines[1]['slots']['booking_number'] == '4711' and lines[0]['language'] == 'de'


@pytest.mark.parametrize('text, note', [
    ('   ', 'nothing said'),
    ('ausweis ' * 80, 'only the first 400 characters'),
    ('\x00\ufffd wc', 'not plain text'),
    ('где паспорт passport', 'cyrillic'),
])
def test_intent_cli_answers_bad_input_clearly(capsys, text, note):
    assert intent_main(['--lang', 'auto', text]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out['intent'] and 0.0 <= out['confidence'] <= 1.0 and any(note in n for n in out['notes'])


def test_intent_cli_english_and_a_two_choice_question(capsys):
    assert intent_main(['--lang', 'en', 'where', 'is', 'the', 'registry', 'office']) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out['intent'], out['target'], out['language']) == ('escort', 'standesamt', 'en') and 'clarify' not in out
    assert intent_main(['--lang', 'tr', 'kimliğimi almak istiyorum']) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(out['clarify']) == ['abholterminal', 'pass_ausweis']


def test_bench_smoke():
    # The held-out set is for the benchmark only (test_data_hygiene.py): the smoke run reads the dev set twice.
    result = bench.run(['--limit', '6', '--repeat', '1', '--heldout', str(bench.DEV_FILE),
                        '--heldout-lang', str(bench.DEV_FILE)])
    for key in ('accuracy_de', 'accuracy_tr', 'latency_p50_ms', 'latency_p99_ms'):
        assert key in result.figures
    for lang in ('de', 'tr', 'en'):
        for key in ('heldout_accuracy', 'confident_wrong_rate', 'clarify_rate'):
            assert f'{key}_{lang}' in result.figures
    assert json.loads(result.json())['latency_p99_ms'] >= 0 and 'intent' in result.table()


@pytest.mark.parametrize('text,name', [
    ('mein Name ist Erika Mustermann', 'Erika Mustermann'),
    ('Mustermann', 'Mustermann'),
    ('soyadım Yılmaz', 'Yılmaz'),
    ('benim adım Ayşe Yılmaz', 'Ayşe Yılmaz'),
    ('äh ja', ''),
])
def test_name_slot(text, name):
    assert name_from_text(text) == name


@pytest.mark.parametrize('text,lang,intent,target', [
    # A day or part of the day with coming by or being open: opening hours (of a named office too).
    ('kommt man am dienstag nachmittag noch rein', 'de', 'opening_hours', None),
    ('ist die stadtkasse mittwochs zu', 'de', 'opening_hours', 'kasse'),
    ('salı öğleden sonra gelebilir miyim', 'tr', 'opening_hours', None),
    ('can i pop in on a saturday morning', 'en', 'opening_hours', None),
    # Opening a business is no question of opening hours.
    ('we are opening a bakery what do we need', 'en', 'escort', 'gewerbeamt'),
    # A compound the lexicon knows as out of scope is no ID card; a place named besides the out-of-scope word wins.
    ('wo gibt es den schwerbehindertenausweis', 'de', 'out_of_scope', None),
    ('mein regenschirm liegt noch im bus', 'de', 'escort', 'fundbuero'),
    # A title with a name: a person asked for; a language the robot does not speak: a language question.
    ('ich will zu herrn özkan', 'de', 'staff_help', None),
    ('sprechen sie rumänisch', 'de', 'language_switch', None),
    # "Germany" names no language.
    ('i am leaving germany next month where do i deregister', 'en', 'escort', 'meldestelle'),
])
def test_everyday_families(nlu, text, lang, intent, target):
    r = nlu.understand(text, lang)
    assert (r.intent, r.target) == (intent, target)


def test_unsupported_language_keeps_the_visitors_and_a_surname_alone_is_no_request(nlu):
    assert nlu.understand('sprichst du arabisch', 'de').slots['language'] == 'de'
    assert nlu.understand('arapça biliyor musun', 'tr').slots['language'] == 'tr'
    # The learned layer never reads a name after a title, so a surname said for a check-in stays unknown.
    for name, lang in (('Yılmaz', 'tr'), ('Meier', 'de'), ('Schneider', 'de')):
        assert nlu.understand(name, lang).intent == 'out_of_scope'


def test_no_appointment_is_a_ticket_even_against_the_model(nlu):
    r = nlu.understand("i didn't book anything but need a new passport", 'en')
    assert r.intent == 'ticket' and r.slots.get('no_appointment')


@pytest.mark.parametrize('text,lang', [
    ('der Automat sagt mein Abholcode ist ungültig', 'de'),
    ('the pickup machine never gave me my ID', 'en'),
    ('teslim makinesi şifremi kabul etmiyor', 'tr'),
])
def test_trouble_at_the_pickup_terminal_asks_whether_the_counter_is_wanted(nlu, text, lang):
    # lexicon staffed_alternative: abholterminal -> pass_ausweis; a problem word (or a Turkish negation suffix).
    r = nlu.understand(text, lang)
    assert r.intent == 'escort' and sorted(r.clarify or []) == ['abholterminal', 'pass_ausweis'], r


def test_a_pickup_without_trouble_is_not_questioned(nlu):
    r = nlu.understand('wo kann ich meinen fertigen Ausweis mit dem Code abholen', 'de')
    assert r.clarify is None or 'pass_ausweis' not in r.clarify or r.target == 'abholterminal'
    assert nlu.understand('wo ist das Abholterminal', 'de').clarify in (None, [])


@pytest.mark.parametrize('text,lang,target', [
    ('Our son is German and we need a travel document for him', 'en', 'pass_ausweis'),
    ('I need a German passport for my trip', 'en', 'pass_ausweis'),
])
def test_a_language_named_in_a_long_request_for_a_place_is_no_language_switch(nlu, text, lang, target):
    r = nlu.understand(text, lang)
    assert r.intent != 'language_switch', r
    assert nlu.understand('in German please', 'en').intent == 'language_switch'


def test_a_time_with_the_way_to_a_place_is_an_appointment_there(nlu):
    r = nlu.understand('ich bin um 9 Uhr zum Standesamt bestellt', 'de')
    assert (r.intent, r.target) == ('appointment_checkin', 'standesamt'), r


def test_when_about_a_place_asks_its_opening_hours(nlu):
    r = nlu.understand('when is the cashier staffed', 'en')
    assert (r.intent, r.target) == ('opening_hours', 'kasse'), r


def test_staffed_alternative_must_name_known_targets(tmp_path):
    from l2b2_common.config import ConfigError
    from l2b2_dialogue import LEXICON_FILE
    bad = tmp_path / 'lexicon.yaml'
    bad.write_text(LEXICON_FILE.read_text(encoding='utf-8').replace('abholterminal: pass_ausweis', 'abholterminal: nowhere'),
                   encoding='utf-8')
    with pytest.raises(ConfigError, match='staffed_alternative'):
        Understander(lexicon_path=bad, learned=False)


@pytest.mark.parametrize('text,lang', [
    ('ich brauche eine Kopie meiner Geburtsurkunde von 1964', 'de'),
    ('I need my marriage certificate, we married in 2003', 'en'),
])
def test_a_year_is_no_booking_number(nlu, text, lang):
    r = nlu.understand(text, lang)
    assert 'booking_number' not in r.slots and (r.intent, r.target) == ('escort', 'standesamt'), r
    assert nlu.understand('meine Buchungsnummer ist 2003', 'de').slots.get('booking_number') == '2003'


@pytest.mark.parametrize('text,lang', [
    ('mein polnischer Reisepass muss verlängert werden', 'de'),
    ('can I renew my Syrian passport here', 'en'),
])
def test_a_foreign_states_passport_is_out_of_scope(nlu, text, lang):
    assert nlu.understand(text, lang).intent == 'out_of_scope'
    assert nlu.understand('mein deutscher Reisepass ist abgelaufen', 'de').target == 'pass_ausweis'


def test_thanks_with_bye_is_a_goodbye(nlu):
    assert nlu.understand('thank you so much, bye', 'en').intent == 'goodbye'


def test_a_word_that_only_begins_like_an_intent_word_is_not_it(nlu):
    # lexicon inflection_endings: "Terminal" is no "Termin" (a two-letter rest is no German ending), "Termine" is.
    assert nlu.understand('wo ist das Terminal für die Ausweise', 'de').intent == 'escort'
    assert nlu.understand('ich habe zwei Termine heute', 'de').intent == 'appointment_checkin'


@pytest.mark.parametrize('text,lang', [('Ist Frau Kowalski heute da?', 'de'), ('Is Mr. Okafor working today?', 'en')])
def test_asking_whether_a_named_clerk_is_there_asks_for_staff(nlu, text, lang):
    assert nlu.understand(text, lang).intent == 'staff_help'


def test_where_to_a_place_that_is_always_open_is_the_way_there(nlu):
    r = nlu.understand('where is the machine that is open day and night for collecting ID cards', 'en')
    assert (r.intent, r.target) == ('escort', 'abholterminal'), r

"""Near-miss repair: misheard office words (and words written apart) become the catalog's words again,
ordinary words, numbers and times stay as heard, and a repaired text is left alone the second time."""
from __future__ import annotations

import numpy as np
import pytest

from l2b2_speech.asr_engine import AsrEngine, BufferedStream, TextFixingEngine, Transcript
from l2b2_speech.asr_setup import EngineChoice, with_near_miss_repair
from l2b2_speech.near_miss import NearMissRepairer, cologne, english_key, office_repairer, turkish_key


@pytest.fixture(scope='module')
def repairer() -> NearMissRepairer:
    return office_repairer(['de', 'tr', 'en'])


def test_cologne_phonetics_gives_the_published_codes():
    assert cologne('Müller-Lüdenscheidt') == '65752682'
    assert cologne('Wikipedia') == '3412'
    assert cologne('Breschnew') == '17863'
    assert cologne('Müller') == cologne('Mueller') == cologne('Miller') == '657'
    assert cologne('Passtille') == cologne('Passstelle')
    assert cologne('Stelle') != cologne('Kelle')
    assert cologne('') == ''


def test_turkish_key_merges_voicing_pairs_and_harmony_variants():
    assert turkish_key('kimlik') == turkish_key('kimlig') == turkish_key('KİMLİK')
    assert turkish_key('nüfus') == turkish_key('nüfüs')
    assert turkish_key('ikametgâh') == turkish_key('ikametgah')
    assert turkish_key('evet') != turkish_key('hayır')


def test_english_key_is_metaphone_like():
    assert english_key('office') == english_key('ofice') == english_key('offise')
    assert english_key('knight') == english_key('night')
    assert english_key('toilet') != english_key('ticket')


@pytest.mark.parametrize(('language', 'heard', 'repaired'), [
    ('de', 'Wo ist das Standes amt?', 'Wo ist das Standesamt?'),
    ('de', 'Ich suche das Fund büro.', 'Ich suche das Fundbüro.'),
    ('de', 'Die Melde stelle bitte', 'Die Meldestelle bitte'),
    ('de', 'Mein Personal aus weiß ist weg', 'Mein Personalausweis ist weg'),
    ('de', 'Warte, füge die Passtille.', 'Warte, füge die Passstelle.'),
    ('tr', 'nüfüs müdürlüğü nerede', 'nüfus müdürlüğü nerede'),
    ('tr', 'Kimlig kartı lazım', 'Kimlik kartı lazım'),
    ('tr', 'pasa port almak istiyorum', 'pasaport almak istiyorum'),
    ('tr', 'Anatar kaybettim', 'Anahtar kaybettim'),
    ('en', 'Where is the ofice?', 'Where is the office?'),
])
def test_near_misses_become_the_office_words(repairer, language, heard, repaired):
    assert repairer.repair(heard, language) == repaired
    assert repairer.repair(repaired, language) == repaired  # idempotent


@pytest.mark.parametrize(('language', 'text'), [
    ('de', 'Die Stelle ist in der Stadt, nicht beim Staat.'),
    ('de', 'Schöne Grüße, die Mauer ist neu.'),   # "schöne" is "schön" inflected; "Mauer" is no "neuer"
    ('de', 'Kann ich hier eine Kopie beglaubigen lassen?'),
    ('de', 'Mein Termin ist um 14:30 Uhr, Nummer 4711, am 3.12.'),
    ('de', 'vier sieben eins eins'),
    ('tr', 'Saat dokuzda randevum vardı, numaram 4711.'),
    ('tr', 'Çocuğum için kimlik kartı lazım.'),
    ('en', 'I lost my wallet at the station.'),
])
def test_ordinary_words_numbers_and_times_stay_as_heard(repairer, language, text):
    assert repairer.repair(text, language) == text
    assert repairer.repairs(text, language) == []


@pytest.mark.parametrize(('language', 'text'), [
    ('de', 'kann ich nach feierabend noch kommen'),     # not "nachkommen"
    ('de', 'um viertel nach zehn'),                     # not "nachziehen"; a number word is never joined
    ('de', 'äh ich bin umgezogen'),                     # "äh umgezogen" is not "umgezogen"
    ('tr', 'Sağ ol, hoşça kal.'),                       # a phrase of the lexicon as it is written there
    ('en', 'I need to register my car'),                # not "deregister"
    ('en', 'my passport is out of date'),               # not "passports"
])
def test_real_words_are_not_joined_into_another_word(repairer, language, text):
    assert repairer.repair(text, language) == text


def test_spelling_variants_of_a_vocabulary_word_are_repaired_to_it(repairer):
    assert repairer.repair('ausweiss verlängern', 'de') == 'ausweis verlängern'  # not "ausweise"
    assert repairer.repair('Personal aus weiß', 'de') == 'Personalausweis'  # real words, same spelling


def test_digits_and_other_languages_are_never_touched(repairer):
    assert repairer.repair('Standes 12 amt', 'de') == 'Standes 12 amt'  # no join across a number
    assert repairer.repair('Standes amt', 'ko') == 'Standes amt'
    assert repairer.repair('', 'de') == ''


def test_a_close_spelling_is_needed_besides_the_sound():
    r = NearMissRepairer({'de': ['neuer', 'standesamt']})
    assert cologne('mauer') == cologne('neuer')
    assert r.repair('Mauer', 'de') == 'Mauer'  # same key, 2 of 5 letters differ: not a near miss
    assert r.repair('Standesammt', 'de') == 'Standesamt'


class _Fixed(AsrEngine):
    name = 'fake'

    def __init__(self, text: str):
        self.text, self.warmed = text, False

    @property
    def languages(self):
        return ('de', 'tr')

    def open_stream(self, languages):
        return BufferedStream(lambda audio, langs: Transcript(self.text, langs[0], 0.9, 0.0, 1.0, self.name,
                                                              alternatives=(('Fund büro', 0.5, 'de'),)), languages)

    def warm_up(self):
        self.warmed = True


def test_engines_deliver_repaired_text_and_keep_what_was_heard():
    inner = _Fixed('Wo ist das Standes amt?')
    engines = with_near_miss_repair({'de': inner, 'tr': inner}, problems := [])
    assert problems == []
    assert engines['de'] is engines['tr'] and isinstance(engines['de'], TextFixingEngine)  # still one engine
    result = engines['de'].transcribe(np.zeros(1600, dtype=np.int16), ['de'])
    assert result.text == 'Wo ist das Standesamt?' and result.raw_text == 'Wo ist das Standes amt?'
    assert result.alternatives == (('Fundbüro', 0.5, 'de'),)
    assert result.engine == 'fake' and engines['de'].name == 'fake'
    engines['de'].warm_up()  # the wrapped engine's own methods pass through
    assert inner.warmed
    clean = with_near_miss_repair({'de': _Fixed('Ja bitte.')}, [])['de'].transcribe(np.zeros(10, np.int16), ['de'])
    assert clean.text == 'Ja bitte.' and clean.raw_text == ''


def test_the_switch_is_a_declared_tunable_and_off_in_the_asr_config():
    # Off by default: with whisper-base it changed no spoken answer (docs/speech.md, measured 2026-12-06).
    from l2b2_speech.transcribe import configured_choice
    assert EngineChoice.__dataclass_fields__['near_miss_repair'].default is False
    assert configured_choice(None).near_miss_repair is False

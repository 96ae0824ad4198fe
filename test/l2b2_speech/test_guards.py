"""The guards against invented text, on the failure modes Whisper shows (no model needed)."""
import numpy as np
import pytest

from l2b2_speech.audio import noise, silence
from l2b2_speech.guards import (
    GuardLimits,
    compression_ratio,
    cut_loop,
    implausible_reason,
    longest_repeat,
    max_new_tokens,
    reject_reason,
    rms_dbfs,
)

OK = {'avg_logprob': -0.4, 'no_speech_prob': 0.05}


def test_a_plain_request_passes():
    assert reject_reason('Guten Tag, wo ist das Standesamt?', speech_s=2.0, **OK) is None
    assert reject_reason('Ja.', speech_s=0.3, **OK) is None  # short answers are always allowed


@pytest.mark.parametrize(('text', 'speech_s', 'kw', 'reason'), [
    ('', 1.0, {}, 'empty'),
    ('Vielen Dank fürs Zuschauen!', 2.0, {'no_speech_prob': 0.9}, 'no-speech'),
    ('Standesamt', 2.0, {'avg_logprob': -2.3}, 'log-probability'),
    ('Untertitel im Auftrag des ZDF für funk, 2017. Vielen Dank fürs Zuschauen und bis zum nächsten Mal.', 1.0, {},
     'characters from 1.0 s'),
    ('ich ich ich möchte', 2.0, {}, 'repetition'),
    ('bitte zum Amt bitte zum Amt bitte zum Amt', 5.0, {}, 'repetition'),
    ('zum Standesamt, ' * 12, 20.0, {}, 'compression ratio'),
])
def test_invented_text_is_rejected_with_a_reason(text, speech_s, kw, reason):
    got = reject_reason(text, speech_s=speech_s, **{**OK, **kw})
    assert got is not None and reason in got


def test_helpers_measure_what_they_say():
    assert longest_repeat('ja ja') == 2 and longest_repeat('a b a b a b') == 3 and longest_repeat('') == 0
    assert compression_ratio('abc' * 50) > 2.4 > compression_ratio('Wo ist das Standesamt, bitte?')
    assert rms_dbfs(silence(0.5)) == -120.0
    assert -12.0 < rms_dbfs(noise(1.0, 0.3)) < -9.0  # 0.3 of full scale ~ -10.5 dBFS
    assert rms_dbfs(np.zeros(0, dtype=np.int16)) == -120.0
    assert max_new_tokens(10.0) > max_new_tokens(1.0) >= 12


def test_limits_are_configurable():
    strict = GuardLimits(max_chars_per_s=5.0, min_chars_allowed=3)
    assert reject_reason('Guten Tag', speech_s=1.0, limits=strict, **OK) is not None


@pytest.mark.parametrize(('looped', 'kept'), [
    ('Ich brauche eine Betraubische Geburt, wo Kunden. Ich brauche eine Betraubische Geburt,',
     'Ich brauche eine Betraubische Geburt, wo Kunden.'),  # measured: the token budget cut the loop
    ('Parkhausmeisskuh-Anbona Parkhausmeisskuh-Anbona Parkhausmeiss', 'Parkhausmeisskuh-Anbona'),
    ('bitte zum Amt bitte zum Amt bitte zum Amt', 'bitte zum Amt'),
    ('ich ich ich ich möchte', 'ich ich möchte'),
])
def test_a_decoding_loop_is_cut_after_its_first_pass(looped, kept):
    assert cut_loop(looped) == kept


@pytest.mark.parametrize('speech', ['Guten Tag, wo ist das Standesamt?', 'ja ja', 'Nein, nein danke.',
                                    'Yabancılar dairesine gitmek istiyorum.', ''])
def test_ordinary_speech_is_left_alone(speech):
    assert cut_loop(speech) == speech


PROMPT_DE = 'Im Bürgerbüro: Pass, Anmeldung, Aufenthaltstitel, Heirat, verloren. Ja bitte. Nein danke.'


@pytest.mark.parametrize('text, speech_s, reason', [
    ('Ja ne ne', 5.2, 'characters for 5.2 s'),            # a few words for seconds of speech
    ('Bu, bu', 2.1, 'characters for 2.1 s'),
    ('Ja bitte. Nein danke.', 2.6, 'copies the prompt'),    # the prompt's words, not the visitor's
    ('Im Bürgerbüro, Pass, Anmeldung, Heirat', 3.0, 'copies the prompt'),
])
def test_implausible_readings_are_named(text, speech_s, reason):
    assert reason in implausible_reason(text, speech_s=speech_s, prompt=PROMPT_DE)


@pytest.mark.parametrize('text, speech_s', [
    ('Ich habe eine Frage.', 1.9),
    ('Ja', 0.3),                      # a short answer said quickly
    ('Ja bitte', 0.8),                # two prompt words are an answer, not a copy
    ('Anmeldung bitte', 1.2),
    ('Wo ist die Anmeldung?', 1.8),
])
def test_plausible_readings_pass(text, speech_s):
    assert implausible_reason(text, speech_s=speech_s, prompt=PROMPT_DE) is None


def test_implausibility_limits_are_parameters():
    assert implausible_reason('Ja', speech_s=1.0, min_chars_per_s=1.0) is None
    assert implausible_reason('Pass Anmeldung Heirat', speech_s=1.0, prompt=PROMPT_DE, prompt_share=1.01) is None
    assert implausible_reason('Pass Anmeldung Heirat', speech_s=1.0) is None  # no prompt: nothing to copy

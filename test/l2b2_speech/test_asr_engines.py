"""The real ASR engines on synthesized speech: Vosk (Korean model that ships, free and grammar mode)
and faster-whisper (shipped multilingual base model) on German and Turkish."""
from __future__ import annotations

import difflib
import json

import numpy as np
import pytest

from l2b2_speech.asr_engine import AsrRouter, ModelError
from l2b2_speech.audio import noise, silence, visitor_speech
from l2b2_speech.vosk_engine import VoskEngine, score_words
from l2b2_speech.whisper_engine import WhisperEngine


def korean_speech(text: str) -> np.ndarray:
    return visitor_speech(text, 'ko')


def fuzzy_contains(text: str, keyword: str, cutoff: float = 0.7) -> bool:
    words = [w.strip('.,!?').lower() for w in text.split()]
    return bool(difflib.get_close_matches(keyword.lower(), words, n=1, cutoff=cutoff))


@pytest.fixture(scope='module')
def vosk_ko(vosk_ko_path):
    return VoskEngine({'ko': vosk_ko_path})


@pytest.fixture(scope='module')
def whisper(whisper_path):
    return WhisperEngine(whisper_path, ('de', 'tr'))


def test_vosk_free_decoding_returns_korean_words_with_timings(vosk_ko):
    audio = np.concatenate([silence(0.3), korean_speech('안녕하세요 여권 신청'), silence(0.3)])
    result = vosk_ko.transcribe(audio)
    assert result is not None and result.language == 'ko' and result.engine == 'vosk'
    assert result.text.strip()
    assert 0.0 <= result.start_s < result.end_s <= audio.size / 16000 + 0.1
    assert 0.0 < result.confidence <= 1.0


def test_vosk_grammar_mode_restricts_output_to_the_phrases(vosk_ko_path):
    phrases = ['안녕하세요', '여권', '신청', '감사합니다']
    engine = VoskEngine({'ko': vosk_ko_path}, grammars={'ko': phrases})
    result = engine.transcribe(np.concatenate([silence(0.2), korean_speech('안녕하세요 여권 신청'), silence(0.3)]))
    assert result is not None
    assert set(result.text.split()) <= set(phrases)
    assert '여권' in result.text.split()


def test_vosk_streaming_in_small_chunks_equals_whole(vosk_ko):
    audio = np.concatenate([silence(0.2), korean_speech('감사합니다'), silence(0.3)])
    stream = vosk_ko.open_stream(['ko'])
    for i in range(0, audio.size, 320):
        stream.accept(audio[i:i + 320])
    chunked = stream.finish()
    whole = vosk_ko.transcribe(audio)
    assert chunked is not None and whole is not None and chunked.text == whole.text


@pytest.mark.parametrize('make', [lambda: silence(2.0), lambda: noise(2.0, 0.02)], ids=['silence', 'quiet-noise'])
def test_vosk_garbage_gives_no_transcript(vosk_ko_path, make):
    # Even without the confidence floor: Vosk itself hears no word in silence or quiet noise.
    for floor in (0.3, 0.0):
        assert VoskEngine({'ko': vosk_ko_path}, min_confidence=floor).transcribe(make()) is None, floor


def test_vosk_missing_model_raises_a_clear_model_error(tmp_path):
    with pytest.raises(ModelError, match='not found'):
        VoskEngine({'de': tmp_path / 'nowhere'})


def test_vosk_broken_model_raises_a_clear_model_error(tmp_path):
    (tmp_path / 'am').mkdir()
    (tmp_path / 'am' / 'final.mdl').write_bytes(b'not a kaldi model')
    with pytest.raises(ModelError, match='cannot be loaded'):
        VoskEngine({'de': tmp_path})


@pytest.mark.slow
@pytest.mark.parametrize(('text', 'language', 'keyword'), [
    ('Guten Tag, wo ist das Standesamt?', 'de', 'Guten'),
    ('Merhaba, pasaport başvurusu yapmak istiyorum.', 'tr', 'pasaport'),
    ('Yabancılar dairesine gitmek istiyorum.', 'tr', 'Yabancılar'),
])
def test_whisper_detects_german_and_turkish_and_hears_keywords(whisper, text, language, keyword):
    audio = np.concatenate([silence(0.3), visitor_speech(text, language, 130), silence(0.3)])
    result = whisper.transcribe(audio)
    assert result is not None, 'no transcript'
    assert result.language == language, result
    assert result.engine == 'whisper'
    assert fuzzy_contains(result.text, keyword), result.text


@pytest.mark.parametrize('make', [
    lambda: silence(2.0),
    lambda: noise(2.0, 0.3),
    lambda: np.clip(noise(2.0, 3.0), -32768, 32767).astype(np.int16),  # clipped
], ids=['silence', 'noise', 'clipped-noise'])
def test_whisper_garbage_audio_yields_no_transcript(whisper, make):
    assert whisper.transcribe(make()) is None
    assert whisper.last_rejection  # and says which guard stopped it


def test_whisper_encodes_once_and_identifies_only_configured_languages(whisper):
    calls = []
    encode = whisper._encode
    whisper._encode = lambda audio: calls.append(audio.size) or encode(audio)
    try:
        english = np.concatenate([silence(0.3), visitor_speech('Where is the registry office, please?', 'en'),
                                  silence(0.3)])
        result = whisper.transcribe(english)  # language unknown: detected from the decoding's own encoder pass
    finally:
        whisper._encode = encode
    assert len(calls) == 1
    assert result is None or result.language in ('de', 'tr')  # English is not configured: never 'en'
    probs = whisper.language_probabilities(encode(english.astype(np.float32) / 32768.0), ['de', 'tr'])
    assert [lang for lang, _ in probs] in (['de', 'tr'], ['tr', 'de'])
    assert sum(p for _, p in probs) == pytest.approx(1.0)


class _Scripted:
    """Stands in for the model's passes: fixed language probabilities and one reading per language."""

    def __init__(self, engine, probs, readings):
        self.engine, self.probs, self.readings, self.decoded = engine, probs, readings, []
        self.saved = {k: engine.__dict__.get(k) for k in ('_speech_timestamps', '_encode', 'language_probabilities',
                                                          '_generate')}
        engine._speech_timestamps = lambda audio, options: [{'start': 0, 'end': audio.size}]
        engine._encode = lambda audio: 'encoded'
        engine.language_probabilities = lambda encoded, languages, normalize=True: sorted(
            probs.items(), key=lambda x: x[1], reverse=True)
        engine._generate = self.generate

    def generate(self, encoded, language, speech_s):
        self.decoded.append(language)
        text, logprob = self.readings[language]
        return [(text, logprob, 0.05, language)]

    def restore(self):
        for k, own in self.saved.items():  # instance attributes back, methods from the class again
            if own is None:
                delattr(self.engine, k)
            else:
                setattr(self.engine, k, own)


def _decode_scripted(engine, probs, readings, seconds=5.0):
    scripted = _Scripted(engine, probs, readings)
    try:
        return engine.transcribe(noise(seconds, 3000.0)), scripted.decoded
    finally:
        scripted.restore()


@pytest.fixture()
def checked_whisper(whisper_path):
    prompts = {'de': 'Im Bürgerbüro: Pass, Anmeldung, Heirat. Ja bitte. Nein danke.',
               'tr': 'Belediyede: pasaport, adres kaydı, evlilik. Evet lütfen. Hayır teşekkürler.'}
    return WhisperEngine(whisper_path, ('de', 'tr'), prompts=prompts)


def test_an_implausible_single_reading_gets_the_runner_up_decoded_and_loses(checked_whisper):
    readings = {'de': ('Ja ne ne', -0.2), 'tr': ('Yeni eve geçtik, adresimizi bildirmemiz lazım.', -1.0)}
    result, decoded = _decode_scripted(checked_whisper, {'de': 0.23, 'tr': 0.03}, readings)
    assert decoded == ['de', 'tr']  # de was clear by probability, but 8 characters for 5 s of speech are not
    assert result.language == 'tr'
    checked_whisper.language_check = False  # the switch restores the old choice: the likelier language only
    result, decoded = _decode_scripted(checked_whisper, {'de': 0.23, 'tr': 0.03}, readings)
    assert decoded == ['de'] and result.language == 'de'


def test_a_plausible_clear_reading_costs_no_second_decode(checked_whisper):
    readings = {'de': ('Ich ziehe zurück in die Türkei und muss mich abmelden.', -0.2), 'tr': ('Bu, bu', -0.1)}
    result, decoded = _decode_scripted(checked_whisper, {'de': 0.9, 'tr': 0.01}, readings, seconds=3.8)
    assert decoded == ['de'] and result.language == 'de'


def test_a_prompt_copy_loses_against_a_less_likely_reading(checked_whisper):
    readings = {'de': ('Ja bitte. Nein danke.', -0.8), 'tr': ('Yabancılar şubesi', -1.2)}
    result, decoded = _decode_scripted(checked_whisper, {'de': 0.0007, 'tr': 0.011}, readings, seconds=2.6)
    assert decoded == ['tr', 'de'] and result.language == 'tr'
    assert [(t, lang) for t, _, lang in result.alternatives] == [('Ja bitte. Nein danke.', 'de')]


def test_the_text_judge_decides_between_close_readings(checked_whisper):
    readings = {'de': ('Parkkarte Maumachistijoggen.', -0.81), 'tr': ('Park kartı maumak istiyor.', -0.94)}
    probs = {'de': 0.04, 'tr': 0.11}
    result, _ = _decode_scripted(checked_whisper, probs, readings, seconds=3.3)
    assert result.language == 'de'  # log-probability alone
    # Turkish letters in the Turkish reading; no evidence either way for the German one
    checked_whisper.language_judge = lambda text, lang: 1.0 if lang == 'tr' and 'ı' in text else 0.0
    result, _ = _decode_scripted(checked_whisper, probs, readings, seconds=3.3)
    assert result.language == 'tr'
    checked_whisper.language_judge = lambda text, lang: 1 / 0  # a broken judge costs nothing but its evidence
    result, _ = _decode_scripted(checked_whisper, probs, readings, seconds=3.3)
    assert result.language == 'de'


def test_language_margin_is_evidence_per_word_against_the_best_other_language():
    from l2b2_speech.asr_setup import language_margin
    scores = {'de': 1.0, 'tr': 5.0, 'en': 3.0}
    assert language_margin(scores, 'Park kartı almak istiyor', 'tr', ('de', 'tr')) == pytest.approx(1.0)
    assert language_margin(scores, 'Park kartı almak istiyor', 'de', ('de', 'tr')) == pytest.approx(-1.0)
    assert language_margin(scores, 'x', 'tr', ('de', 'tr', 'en')) == pytest.approx(2.0)
    assert language_margin({}, '', 'de', ('de', 'tr')) == 0.0


@pytest.mark.slow
def test_whisper_beam_search_hands_over_distinct_alternatives(whisper_path):
    engine = WhisperEngine(whisper_path, ('de',), beam_size=3, n_best=3)
    result = engine.transcribe(np.concatenate([silence(0.3), visitor_speech('Wo ist das Standesamt?', 'de', 130),
                                               silence(0.3)]))
    assert result is not None and result.language == 'de'
    texts = [result.text, *(t for t, _, _ in result.alternatives)]
    assert len(texts) == len(set(texts))
    assert all(lang == 'de' and 0.0 < conf <= result.confidence for _, conf, lang in result.alternatives)


def test_whisper_missing_files_raise_model_error(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps({}))
    with pytest.raises(ModelError, match='missing model.bin'):
        WhisperEngine(tmp_path)


def test_whisper_broken_model_raises_model_error(tmp_path):
    for name in ('model.bin', 'config.json', 'tokenizer.json', 'vocabulary.txt'):
        (tmp_path / name).write_bytes(b'garbage')
    with pytest.raises(ModelError, match='cannot be loaded'):
        WhisperEngine(tmp_path)


def test_router_decodes_unknown_language_with_every_engine_and_keeps_the_best(vosk_ko, whisper):
    router = AsrRouter({'ko': vosk_ko, 'de': whisper, 'tr': whisper})
    try:
        stream = router.open_stream()
        assert len(stream._streams) == 2  # Vosk (ko) and Whisper (de, tr) both decode
        finished = []  # what each engine's stream returned
        for inner in stream._streams:
            inner.finish = lambda finish=inner.finish: finished.append(finish()) or finished[-1]
        stream.accept(np.concatenate([silence(0.2), korean_speech('안녕하세요 여권 신청'), silence(0.3)]))
        result = stream.finish()
        assert len(finished) == 2
        heard = [t for t in finished if t is not None]
        assert any(t.engine == 'vosk' for t in heard)  # Korean speech: Vosk's Korean model hears words
        assert result is max(heard, key=lambda t: t.confidence)  # the best of both is kept
        # With the language known, only that engine decodes.
        stream = router.open_stream('ko')
        stream.accept(np.concatenate([silence(0.2), korean_speech('안녕하세요'), silence(0.3)]))
        known = stream.finish()
        assert known is not None and known.language == 'ko' and known.engine == 'vosk'
    finally:
        router.close()


def test_two_vosk_languages_decode_side_by_side(vosk_ko, vosk_ko_path):
    # Two "languages" on the same Korean model: both streams hypothesize on every chunk in parallel.
    twin = VoskEngine({'xx': vosk_ko_path})
    router = AsrRouter({'ko': vosk_ko, 'xx': twin})
    try:
        stream = router.open_stream()
        finished = []  # what each language's stream decoded (Vosk's scores vary a little run to run)
        for inner in stream._streams:
            inner.finish = lambda finish=inner.finish: finished.append(finish()) or finished[-1]
        audio = np.concatenate([silence(0.2), korean_speech('안녕하세요 여권 신청'), silence(0.3)])
        for i in range(0, audio.size, 1600):
            stream.accept(audio[i:i + 1600])
        result = stream.finish()
        assert len(finished) == 2 and {t.language for t in finished} == {'ko', 'xx'}
        assert all(fuzzy_contains(t.text, '하세요') for t in finished)  # both heard the whole segment
        assert result is max(finished, key=lambda t: t.confidence)  # the better-scoring language wins
    finally:
        router.close()


def test_vosk_score_counts_unknown_words_against_a_language():
    words = [{'word': 'ja', 'conf': 1.0, 'start': 0.1, 'end': 0.3}, {'word': '[unk]', 'conf': 1.0},
             {'word': 'bitte', 'conf': 0.5, 'start': 0.4, 'end': 0.8}, {'word': '[unk]', 'conf': 1.0}]
    assert score_words(words) == ('ja bitte', 0.375, 0.1, 0.8)
    assert score_words([{'word': '[unk]', 'conf': 1.0}]) is None
    assert score_words([]) is None

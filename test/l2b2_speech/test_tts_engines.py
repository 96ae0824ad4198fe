"""Real voices: Piper with the English voice that ships, espeak-ng for German and Turkish, and the fallback."""
from __future__ import annotations

import numpy as np
import pytest

from l2b2_speech.espeak_engine import EspeakEngine, split_sentences
from l2b2_speech.piper_engine import PiperEngine
from l2b2_speech.tts_engine import TtsRouter, VoiceError


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


@pytest.fixture(scope='module')
def joe(joe_voice_path):
    return PiperEngine(joe_voice_path, 'en')


def test_piper_english_voice_speaks_one_block_per_sentence(joe):
    blocks = list(joe.synthesize('Hello. Please follow me.', 'en'))
    assert len(blocks) == 2
    for b in blocks:
        assert b.sample_rate == joe.sample_rate == 22050
        assert b.samples.dtype == np.int16 and b.samples.size > 0.3 * b.sample_rate and rms(b.samples) > 500


@pytest.mark.parametrize(('text', 'language'), [
    ('Grüß Gott! Bitte folgen Sie mir zur Ausländerbehörde.', 'de'),
    ('Çok teşekkürler. İşte sıra numaranız: ğ ı ö ş ü.', 'tr'),
])
def test_espeak_speaks_german_and_turkish_with_their_letters(text, language):
    blocks = list(EspeakEngine().synthesize(text, language))
    assert len(blocks) == len(split_sentences(text)) == 2
    assert all(b.samples.size > 0.2 * b.sample_rate and rms(b.samples) > 300 for b in blocks)


def test_missing_piper_voice_is_a_voice_error(tmp_path):
    with pytest.raises(VoiceError, match='not found'):
        PiperEngine(tmp_path / 'de_DE-thorsten-medium.onnx', 'de')


def test_broken_piper_voice_is_a_voice_error(tmp_path):
    voice = tmp_path / 'de_DE-broken.onnx'
    voice.write_bytes(b'not onnx')
    (tmp_path / 'de_DE-broken.onnx.json').write_text('{"audio": {"sample_rate": 22050}}')
    with pytest.raises(VoiceError, match='cannot be loaded'):
        PiperEngine(voice, 'de')


def test_router_uses_piper_where_loaded_and_espeak_elsewhere_reporting_once(joe):
    reports = []
    router = TtsRouter({'en': joe}, EspeakEngine(), on_fallback=lambda lang, why: reports.append(lang))
    assert router.engine_for('en') is joe
    assert router.engine_for('de').name == 'espeak-ng'
    assert router.engine_for('de').name == 'espeak-ng'
    assert reports == ['de']
    assert list(router.synthesize('Merhaba.', 'tr'))
    assert reports == ['de', 'tr']


def test_router_falls_back_for_good_when_a_voice_fails_mid_way():
    class Failing(EspeakEngine):
        name = 'piper'

        def synthesize(self, text, language):
            raise RuntimeError('onnxruntime exploded')

    reports = []
    router = TtsRouter({'de': Failing()}, EspeakEngine(), on_fallback=lambda lang, why: reports.append(why))
    assert list(router.synthesize('Hallo.', 'de'))
    assert 'onnxruntime exploded' in reports[0]
    assert router.engine_for('de').name == 'espeak-ng'


def test_router_without_any_voice_raises():
    with pytest.raises(VoiceError):
        list(TtsRouter({}, None).synthesize('Hallo.', 'de'))

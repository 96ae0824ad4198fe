"""espeak-ng (Debian package): robotic but speaks German and Turkish everywhere; the fallback voice."""
from __future__ import annotations

from collections.abc import Iterator
import re
import shutil

from l2b2_speech.audio import espeak_synthesize
from l2b2_speech.tts_engine import AudioBlock, TtsEngine, VoiceError

DEFAULT_VOICES = {'de': 'de', 'tr': 'tr', 'en': 'en-us'}
_SENTENCE = re.compile(r'(?<=[.!?…])\s+')


def split_sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE.split(text)) if s]


class EspeakEngine(TtsEngine):
    name = 'espeak-ng'

    def __init__(self, voices: dict[str, str] | None = None, rate_wpm: int = 160, pitch: int = 50):
        if shutil.which('espeak-ng') is None:
            raise VoiceError('espeak-ng is not installed (Debian package espeak-ng)')
        self._voices = dict(voices or DEFAULT_VOICES)
        self.rate_wpm, self.pitch = rate_wpm, pitch

    def languages(self) -> tuple[str, ...]:
        return tuple(self._voices)

    def synthesize(self, text: str, language: str) -> Iterator[AudioBlock]:
        voice = self._voices.get(language, language)
        for sentence in split_sentences(text):
            samples, rate = espeak_synthesize(sentence, voice, self.rate_wpm, self.pitch)
            yield AudioBlock(samples, rate)

"""Piper (ONNX neural voices): natural voices per language, e.g. de_DE-thorsten-medium, tr_TR-dfki-medium.

Voices load at start (a medium voice takes ~0.5 s); a voice that fails to load is reported and the
router falls back to espeak-ng for that language. Piper never downloads anything here.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from l2b2_speech.tts_engine import AudioBlock, TtsEngine, VoiceError


class PiperEngine(TtsEngine):
    name = 'piper'

    def __init__(self, voice_path: str | Path, language: str):
        path = Path(voice_path)
        config = Path(f'{path}.json')
        if not path.is_file():
            raise VoiceError(f'piper {language} voice not found at {path}')
        if not config.is_file():
            raise VoiceError(f'piper {language} voice config not found at {config}')
        try:
            from piper import PiperVoice
            self._voice = PiperVoice.load(path, config_path=config)
        except Exception as exc:  # noqa: BLE001 - onnxruntime/json raise many types for a broken voice
            raise VoiceError(f'piper {language} voice at {path} cannot be loaded: {exc}') from None
        self.language = language
        self.sample_rate = int(self._voice.config.sample_rate)

    def languages(self) -> tuple[str, ...]:
        return (self.language,)

    def synthesize(self, text: str, language: str) -> Iterator[AudioBlock]:
        for chunk in self._voice.synthesize(text):
            yield AudioBlock(chunk.audio_int16_array.copy(), chunk.sample_rate)

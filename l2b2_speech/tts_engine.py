"""What every voice looks like to the TTS node: text + language -> audio, sentence by sentence.

Yielding per sentence keeps time-to-first-audio short for long texts and lets playback stop between
any two blocks. :class:`TtsRouter` picks Piper where a voice is configured and loads, espeak-ng else.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


class VoiceError(RuntimeError):
    """A voice is missing or cannot be loaded."""


@dataclass(frozen=True)
class AudioBlock:
    samples: np.ndarray  # int16 mono
    sample_rate: int


class TtsEngine(ABC):
    name: str = 'tts'

    @abstractmethod
    def languages(self) -> tuple[str, ...]:
        """Languages this engine can speak."""

    @abstractmethod
    def synthesize(self, text: str, language: str) -> Iterator[AudioBlock]:
        """Audio for ``text``, one block per sentence, as soon as each is ready."""


class TtsRouter:
    """Per language: the preferred engine if it speaks it, else the fallback (reported once via ``on_fallback``)."""

    def __init__(self, preferred: dict[str, TtsEngine], fallback: TtsEngine | None,
                 on_fallback: Callable[[str, str], None] | None = None):
        self._preferred = preferred
        self._fallback = fallback
        self._on_fallback = on_fallback or (lambda lang, why: None)
        self._reported: set[str] = set()

    def engine_for(self, language: str) -> TtsEngine | None:
        engine = self._preferred.get(language)
        if engine is not None:
            return engine
        if self._fallback is not None and language not in self._reported:
            self._reported.add(language)
            self._on_fallback(language, f'no voice loaded for {language!r}, using {self._fallback.name}')
        return self._fallback

    def synthesize(self, text: str, language: str) -> Iterator[AudioBlock]:
        engine = self.engine_for(language)
        if engine is None:
            raise VoiceError(f'no voice for language {language!r}')
        try:
            yield from engine.synthesize(text, language)
        except VoiceError:
            raise
        except Exception as exc:
            if engine is self._fallback or self._fallback is None:
                raise VoiceError(f'{engine.name} failed for {language!r}: {exc}') from exc
            self._preferred.pop(language, None)
            self._reported.add(language)
            self._on_fallback(language, f'{engine.name} failed ({exc}); using {self._fallback.name} from now on')
            yield from self._fallback.synthesize(text, language)

"""faster-whisper (CTranslate2, CPU int8): the only German/Turkish-capable model that ships in packages.

One model instance, small beam, language constrained to the configured set. Silero VAD (bundled
with faster-whisper) first checks there is speech at all, because Whisper invents text for noise.
"""
from __future__ import annotations

from collections.abc import Sequence
import math
from pathlib import Path
import threading

import numpy as np

from l2b2_speech.asr_engine import SAMPLE_RATE, AsrEngine, AsrStream, BufferedStream, ModelError, Transcript

REQUIRED_FILES = ('model.bin', 'config.json', 'tokenizer.json', 'vocabulary.txt')


class WhisperEngine(AsrEngine):
    name = 'whisper'

    def __init__(self, model_dir: str | Path, languages: Sequence[str] = ('de', 'tr'), *, beam_size: int = 1,
                 cpu_threads: int = 2, min_avg_logprob: float = -1.5, max_no_speech_prob: float = 0.6,
                 clear_language_ratio: float = 4.0, prompts: dict[str, str] | None = None):
        model_dir = Path(model_dir)
        missing = [f for f in REQUIRED_FILES if not (model_dir / f).is_file()]
        if missing:
            raise ModelError(f'whisper model in {model_dir} is missing {", ".join(missing)} (run scripts/setup.sh)')
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.vad import VadOptions, get_speech_timestamps
        except ImportError as exc:
            raise ModelError(f'faster-whisper is not installed: {exc}') from None
        try:
            self._model = WhisperModel(str(model_dir), device='cpu', compute_type='int8', cpu_threads=cpu_threads,
                                       num_workers=1)
        except Exception as exc:  # noqa: BLE001 - ctranslate2 raises RuntimeError/ValueError for broken files
            raise ModelError(f'whisper model in {model_dir} cannot be loaded: {exc}') from None
        self._speech_timestamps, self._vad_options = get_speech_timestamps, VadOptions(min_speech_duration_ms=150)
        self._languages = tuple(languages)
        self._lock = threading.Lock()
        self.beam_size = beam_size
        self.min_avg_logprob = min_avg_logprob
        self.max_no_speech_prob = max_no_speech_prob
        self.clear_language_ratio = clear_language_ratio
        #: Per-language initial prompts (the office's vocabulary, see grammar.whisper_prompt).
        self.prompts = dict(prompts or {})

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def warm_up(self) -> None:
        """One throw-away decode: the first real one would otherwise pay CTranslate2's start-up (~1-2 s)."""
        tone = (0.1 * np.sin(np.linspace(0, 2 * np.pi * 220, SAMPLE_RATE))).astype(np.float32)
        with self._lock:
            list(self._model.transcribe(tone, language=self._languages[0], beam_size=1, without_timestamps=True)[0])

    def open_stream(self, languages: Sequence[str]) -> AsrStream:
        return BufferedStream(self._decode, [lang for lang in languages if lang in self._languages] or self._languages)

    def _decode(self, samples: np.ndarray, languages: list[str]) -> Transcript | None:
        if samples.size < SAMPLE_RATE // 5:
            return None
        audio = samples.astype(np.float32) / 32768.0
        with self._lock:
            speech = self._speech_timestamps(audio, self._vad_options)
            if not speech:
                return None
            start_s, end_s = speech[0]['start'] / SAMPLE_RATE, speech[-1]['end'] / SAMPLE_RATE
            candidates = self._likely_languages(audio, languages)
            results = [r for r in (self._transcribe(audio, lang) for lang in candidates) if r is not None]
        best = max(results, key=lambda r: r[1], default=None)
        if best is None:
            return None
        text, logprob, lang = best
        return Transcript(text=text, language=lang, confidence=float(math.exp(logprob)), start_s=start_s,
                          end_s=end_s, engine=self.name)

    def _likely_languages(self, audio: np.ndarray, languages: list[str]) -> list[str]:
        """Detect among the allowed languages; decode all of them only when detection is not clear."""
        if len(languages) == 1:
            return languages
        _, _, probs = self._model.detect_language(audio)
        scores = sorted(((dict(probs).get(lang, 0.0), lang) for lang in languages), reverse=True)
        (p1, l1), (p2, _) = scores[0], scores[1]
        if p1 >= 0.05 and p1 >= self.clear_language_ratio * max(p2, 1e-9):
            return [l1]
        return [lang for _, lang in scores]

    def _transcribe(self, audio: np.ndarray, language: str) -> tuple[str, float, str] | None:
        segments, _ = self._model.transcribe(audio, language=language, beam_size=self.beam_size, vad_filter=False,
                                             without_timestamps=True, condition_on_previous_text=False,
                                             temperature=0.0, initial_prompt=self.prompts.get(language))
        segments = list(segments)
        text = ' '.join(s.text.strip() for s in segments).strip()
        if not text:
            return None
        weights = [max(1, len(s.tokens)) for s in segments]
        logprob = sum(s.avg_logprob * w for s, w in zip(segments, weights, strict=True)) / sum(weights)
        no_speech = max(s.no_speech_prob for s in segments)
        if logprob < self.min_avg_logprob or no_speech > self.max_no_speech_prob:
            return None
        return text, logprob, language

"""Vosk (Kaldi): the design's primary engine, streaming, one model per language.

With a restricted-vocabulary grammar (see grammar.py) the recognizer only chooses among the words a
visitor plausibly says here, which keeps it accurate in a noisy hall.
"""
from __future__ import annotations

from collections.abc import Sequence
import json
from pathlib import Path

import numpy as np

from l2b2_speech.asr_engine import SAMPLE_RATE, AsrEngine, AsrStream, ModelError, Transcript

UNKNOWN = '[unk]'


class VoskEngine(AsrEngine):
    name = 'vosk'

    def __init__(self, model_paths: dict[str, str | Path], grammars: dict[str, Sequence[str]] | None = None,
                 *, min_confidence: float = 0.3):
        try:
            import vosk
        except ImportError as exc:
            raise ModelError(f'vosk is not installed: {exc}') from None
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self._models = {}
        for lang, path in model_paths.items():
            path = Path(path)
            if not (path / 'am').is_dir() and not (path / 'final.mdl').exists():
                raise ModelError(f'vosk {lang} model not found at {path} (expected a model folder with am/, conf/)')
            try:
                self._models[lang] = vosk.Model(str(path))
            except Exception as exc:  # noqa: BLE001 - vosk raises a bare Exception for a broken model
                raise ModelError(f'vosk {lang} model at {path} cannot be loaded: {exc}') from None
        self._grammars = {lang: json.dumps(list(phrases) + [UNKNOWN], ensure_ascii=False)
                          for lang, phrases in (grammars or {}).items() if phrases}
        self.min_confidence = min_confidence

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    @property
    def grammar_languages(self) -> tuple[str, ...]:
        return tuple(self._grammars)

    def open_stream(self, languages: Sequence[str]) -> AsrStream:
        langs = [lang for lang in languages if lang in self._models] or list(self._models)
        recognizers = {}
        for lang in langs:
            grammar = self._grammars.get(lang)
            rec = (self._vosk.KaldiRecognizer(self._models[lang], SAMPLE_RATE, grammar) if grammar
                   else self._vosk.KaldiRecognizer(self._models[lang], SAMPLE_RATE))
            rec.SetWords(True)
            recognizers[lang] = rec
        return _VoskStream(recognizers, self.min_confidence)


def score_words(words: list[dict]) -> tuple[str, float, float, float] | None:
    """Text, confidence and timing of a Vosk word list; ``[unk]`` words count as confidence 0.

    In grammar mode speech in another language comes out as ``[unk]`` (or forced words), so the
    share of known words is what tells the right language's recognizer from the wrong one.
    """
    words = [w for w in words if w.get('word')]
    known = [w for w in words if w['word'] != UNKNOWN]
    if not known:
        return None
    confidence = float(sum(w.get('conf', 0.0) for w in known) / len(words))
    return (' '.join(w['word'] for w in known), confidence, float(known[0].get('start', 0.0)),
            float(known[-1].get('end', 0.0)))


class _VoskStream(AsrStream):
    def __init__(self, recognizers: dict, min_confidence: float):
        self._recognizers = recognizers
        self._min_confidence = min_confidence
        self._words: dict[str, list[dict]] = {lang: [] for lang in recognizers}

    def accept(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype=np.int16).tobytes()
        if not data:
            return
        # Each language decodes the same audio; vosk releases the GIL, but chunks are small, so in turn.
        for lang, rec in self._recognizers.items():
            if rec.AcceptWaveform(data):  # an endpoint inside the segment: keep its words
                self._words[lang].extend(json.loads(rec.Result()).get('result', []))

    def finish(self) -> Transcript | None:
        best: Transcript | None = None
        for lang, rec in self._recognizers.items():
            words = self._words[lang] + json.loads(rec.FinalResult()).get('result', [])
            scored = score_words(words)
            if scored is None or scored[1] < self._min_confidence:
                continue
            text, confidence, start_s, end_s = scored
            t = Transcript(text=text, language=lang, confidence=confidence, start_s=start_s, end_s=end_s,
                           engine='vosk')
            if best is None or t.confidence > best.confidence:
                best = t
        return best

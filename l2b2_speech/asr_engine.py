"""What every speech recognizer looks like to the ASR node: audio in -> text, language, confidence, timings.

Engines decode a segment as a stream (``open_stream``/``accept``/``finish``) so that streaming engines
(Vosk) work while the visitor speaks and the text is ready right after the end of speech; batch engines
(faster-whisper) simply buffer. When the visitor's language is unknown, an engine is asked for
several languages and returns the best-scoring hypothesis.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

SAMPLE_RATE = 16000


class ModelError(RuntimeError):
    """A model is missing, unreadable or broken: the node starts degraded instead of crashing."""


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    #: 0..1, comparable between languages of one engine (not between engines).
    confidence: float
    #: Speech inside the decoded audio, seconds from its first sample.
    start_s: float
    end_s: float
    engine: str
    #: Other hypotheses (n-best, or the other language's decode), best first: text, confidence, language.
    alternatives: tuple[tuple[str, float, str], ...] = ()
    #: What the recognizer itself wrote when a text step after it (near-miss repair) changed ``text``; '' when
    #: ``text`` is the recognizer's own.
    raw_text: str = ''


class AsrStream(ABC):
    """One segment being decoded."""

    @abstractmethod
    def accept(self, samples: np.ndarray) -> None:
        """Add 16 kHz mono int16 samples."""

    @abstractmethod
    def finish(self) -> Transcript | None:
        """The best hypothesis, or None when nothing intelligible was said."""


class AsrEngine(ABC):
    name: str = 'asr'

    @property
    @abstractmethod
    def languages(self) -> tuple[str, ...]:
        """Languages this engine can decode."""

    @abstractmethod
    def open_stream(self, languages: Sequence[str]) -> AsrStream:
        """Start a segment to be decoded in one of ``languages`` (a subset of :attr:`languages`)."""

    def transcribe(self, samples: np.ndarray, languages: Sequence[str] | None = None) -> Transcript | None:
        stream = self.open_stream(list(languages or self.languages))
        stream.accept(np.asarray(samples, dtype=np.int16))
        return stream.finish()


class BufferedStream(AsrStream):
    """For batch engines: collect the samples, decode on finish."""

    def __init__(self, decode, languages: Sequence[str]):
        self._decode, self._languages, self._parts = decode, list(languages), []

    def accept(self, samples: np.ndarray) -> None:
        self._parts.append(np.asarray(samples, dtype=np.int16))

    def finish(self) -> Transcript | None:
        audio = np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.int16)
        return self._decode(audio, self._languages)


class AsrRouter:
    """Picks the engine per language (from config) and decodes unknown-language speech with all of them.

    With several engines involved, each decodes its languages in parallel and the highest confidence wins.
    """

    def __init__(self, engine_by_language: dict[str, AsrEngine]):
        self.engine_by_language = dict(engine_by_language)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(set(map(id, self.engine_by_language.values())))),
                                        thread_name_prefix='asr')

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.engine_by_language)

    def open_stream(self, language: str | None = None) -> RoutedStream:
        wanted = [language] if language in self.engine_by_language else list(self.engine_by_language)
        groups: dict[int, tuple[AsrEngine, list[str]]] = {}
        for lang in wanted:
            engine = self.engine_by_language[lang]
            groups.setdefault(id(engine), (engine, []))[1].append(lang)
        return RoutedStream([engine.open_stream(langs) for engine, langs in groups.values()], self._pool)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RoutedStream(AsrStream):
    def __init__(self, streams: list[AsrStream], pool: ThreadPoolExecutor):
        self._streams, self._pool = streams, pool

    def accept(self, samples: np.ndarray) -> None:
        if len(self._streams) == 1:
            self._streams[0].accept(samples)
        else:  # e.g. Vosk de and Vosk tr hypothesize on the same audio side by side (Kaldi releases the GIL)
            list(self._pool.map(lambda s: s.accept(samples), self._streams))

    def finish(self) -> Transcript | None:
        if len(self._streams) == 1:
            results = [self._streams[0].finish()]
        else:
            results = list(self._pool.map(lambda s: s.finish(), self._streams))
        results = [r for r in results if r is not None]
        return max(results, key=lambda r: r.confidence, default=None)


class TextFixingEngine(AsrEngine):
    """An engine whose transcripts pass through ``fix(text, language) -> text`` (e.g. the near-miss repair of
    :mod:`l2b2_speech.near_miss`): the text and every alternative are fixed, the recognizer's own text is kept
    in :attr:`Transcript.raw_text` when it changed. Everything else (``warm_up``, ``last_rejection``, ...)
    is the wrapped engine's."""

    def __init__(self, inner: AsrEngine, fix: Callable[[str, str], str]):
        self.inner, self.fix, self.name = inner, fix, inner.name

    @property
    def languages(self) -> tuple[str, ...]:
        return self.inner.languages

    def open_stream(self, languages: Sequence[str]) -> AsrStream:
        return _FixingStream(self.inner.open_stream(languages), self)

    def fixed(self, result: Transcript | None) -> Transcript | None:
        if result is None:
            return None
        text = self.fix(result.text, result.language)
        alternatives = tuple((self.fix(t, lang), c, lang) for t, c, lang in result.alternatives)
        if text == result.text and alternatives == result.alternatives:
            return result
        return replace(result, text=text, alternatives=alternatives,
                       raw_text=(result.raw_text or result.text) if text != result.text else result.raw_text)

    def __getattr__(self, name: str):
        if name == 'inner':  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


class _FixingStream(AsrStream):
    def __init__(self, stream: AsrStream, engine: TextFixingEngine):
        self._stream, self._engine = stream, engine

    def accept(self, samples: np.ndarray) -> None:
        self._stream.accept(samples)

    def finish(self) -> Transcript | None:
        return self._engine.fixed(self._stream.finish())

"""``l2b2-transcribe [--lang de|tr|en|auto] [--nlu] FILE.wav...`` — what the robot hears in a recording.

One JSON line per file: ``file``, ``text``, ``language``, ``confidence``, ``decode_ms`` (and
``alternatives``, ``rejected`` when the guards dropped what the model wrote, ``raw_text`` when the near-miss
repair changed what the model wrote), with ``--nlu`` also the
dialogue's ``intent``, ``target`` and ``nlu_confidence``. Staff check a microphone recording with
it; tests and benchmarks use it too. Any WAV (PCM 8-32 bit, float, any rate, any channels) is
converted to the 16 kHz mono the ASR takes. A file that cannot be read gives ``{"file", "error"}``
and the next file still runs; the exit code is then 1. The engines are the ASR node's own
(:mod:`l2b2_speech.asr_setup`, same models file, same defaults as ``config/asr.yaml``).
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import replace
import json
import sys
import time
from typing import Any

import numpy as np

from l2b2_common.config import ConfigError, config_path, load_yaml
from l2b2_common.tunables import ParameterError, validated
from l2b2_speech.asr_engine import SAMPLE_RATE, AsrRouter, Transcript
from l2b2_speech.asr_setup import EngineChoice, build_engines
from l2b2_speech.audio import WavError, read_wav
from l2b2_speech.models import load_models
from l2b2_speech.vad import VadConfig, VadSegmenter

#: Whisper sees 30 s at a time: a longer recording is cut at the VAD's pauses first.
MAX_WINDOW_S = 28.0


def to_asr_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """16 kHz with an anti-aliasing polyphase filter (a 48 kHz recording would alias with plain interpolation)."""
    if rate == SAMPLE_RATE:
        return samples
    from math import gcd

    from scipy.signal import resample_poly
    g = gcd(rate, SAMPLE_RATE)
    out = resample_poly(samples.astype(np.float64), SAMPLE_RATE // g, rate // g)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def windows(audio: np.ndarray) -> list[np.ndarray]:
    """The whole file if it fits Whisper's window, else its VAD segments (audio_input's settings)."""
    if audio.size <= MAX_WINDOW_S * SAMPLE_RATE:
        return [audio]
    segmenter = VadSegmenter(VadConfig(max_segment_s=MAX_WINDOW_S))
    parts: dict[int, list[np.ndarray]] = {}
    for chunk in [*segmenter.feed(audio), *segmenter.flush()]:
        parts.setdefault(chunk.segment_id, []).append(chunk.samples)
    return [np.concatenate(p) for p in parts.values() if sum(x.size for x in p)]


def transcribe_file(router: AsrRouter, path: str, language: str | None) -> dict[str, Any]:
    samples, rate = read_wav(path)
    audio = to_asr_rate(samples, rate)
    t0 = time.perf_counter()
    results: list[Transcript] = []
    reasons = []
    for window in windows(audio):
        stream = router.open_stream(language)
        stream.accept(window)
        result = stream.finish()
        if result is not None:
            results.append(result)
        else:
            reasons += [r for r in (getattr(e, 'last_rejection', '') for e in _engines(router)) if r]
    decode_ms = round((time.perf_counter() - t0) * 1000.0, 1)
    out: dict[str, Any] = {'file': path, 'text': ' '.join(r.text for r in results),
                           'language': results[0].language if results else None,
                           'confidence': round(min((r.confidence for r in results), default=0.0), 3),
                           'decode_ms': decode_ms, 'audio_s': round(audio.size / SAMPLE_RATE, 2)}
    if any(r.raw_text for r in results):
        out['raw_text'] = ' '.join(r.raw_text or r.text for r in results)
    if len(results) == 1 and results[0].alternatives:
        out['alternatives'] = [{'text': t, 'confidence': round(c, 3), 'language': lang}
                               for t, c, lang in results[0].alternatives]
    if not results:
        out['rejected'] = reasons[0] if reasons else 'nothing recognized'
    return out


def _engines(router: AsrRouter):
    return {id(e): e for e in router.engine_by_language.values()}.values()


def configured_choice(languages: Sequence[str] | None) -> EngineChoice:
    """The ASR node's settings from config/asr.yaml (defaults where absent), languages overridden."""
    try:
        params = (load_yaml(config_path('asr.yaml')) or {}).get('asr', {}).get('ros__parameters', {})
    except ConfigError:
        params = {}
    fields = {k: v for k, v in params.items() if k in EngineChoice.__dataclass_fields__}
    if languages:
        fields['languages'] = list(languages)
    return validated(EngineChoice, 'config/asr.yaml', **fields)


def nlu_step() -> Callable[[str, str], dict[str, Any]]:
    """The dialogue's understanding, through the entry point ``l2b2-intent`` uses."""
    from l2b2_common.catalog import LANGUAGES
    from l2b2_dialogue.nlu import Understander
    nlu = Understander()

    def understand(text: str, language: str) -> dict[str, Any]:
        u = nlu.understand(text, language if language in LANGUAGES else '')
        return {'intent': u.intent, 'target': u.target, 'nlu_confidence': round(u.confidence, 3)}
    return understand


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-transcribe', description=__doc__.splitlines()[0])
    parser.add_argument('--lang', choices=('de', 'tr', 'en', 'auto'), default='auto',
                        help="the recording's language (auto: the ASR's configured languages, detected)")
    parser.add_argument('--nlu', action='store_true', help="also print the dialogue's intent and target")
    parser.add_argument('--models', default='speech_models.yaml', help='models file (under config/ or absolute)')
    parser.add_argument('--beam', type=int, default=None, help='Whisper beam size (default: config/asr.yaml)')
    parser.add_argument('files', nargs='+', metavar='FILE.wav')
    args = parser.parse_args(argv)
    try:
        choice = configured_choice(None if args.lang == 'auto' else [args.lang])
    except ParameterError as exc:
        print(f'l2b2-transcribe: {exc}', file=sys.stderr)
        return 2
    if args.beam is not None:
        choice = replace(choice, whisper_beam_size=max(1, min(5, args.beam)))
    try:
        engines, problems = build_engines(load_models(config_path(args.models)), choice)
    except ConfigError as exc:
        print(f'l2b2-transcribe: {exc}', file=sys.stderr)
        return 2
    if not engines:
        print(f'l2b2-transcribe: no recognizer: {"; ".join(problems)}', file=sys.stderr)
        return 2
    understand = nlu_step() if args.nlu else None
    router = AsrRouter(engines)
    failed = 0
    try:
        for path in args.files:
            try:
                line = transcribe_file(router, path, None if args.lang == 'auto' else args.lang)
            except WavError as exc:
                failed += 1
                line = {'file': path, 'error': str(exc)}
            except Exception as exc:  # noqa: BLE001 - one file's decoder failure must not stop the others
                failed += 1
                line = {'file': path, 'error': f'{path}: recognition failed: {exc}'}
            if understand is not None and 'error' not in line:
                line.update(understand(line['text'], line['language'] or ''))
            print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        router.close()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

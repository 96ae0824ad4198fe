"""The spoken-understanding section of ``l2b2-bench speech``: unseen sentences, unseen voices, noise.

Held-out sentences (``test/data/utterances_heldout.tsv``, read only by benchmarks) are spoken with
espeak-ng voice variants, rates and pitches the tests never use, mixed with pink noise or babble
(other utterances overlapped) at 30, 20 and 10 dB SNR, cut by audio_input's VAD (its
``config/audio_input.yaml`` settings, fed in 20 ms blocks), decoded by the ASR's own engines
(``config/asr.yaml``, language unknown, as at the start of a conversation) and understood by the
dialogue's NLU with the language the ASR reported. The same sentences typed give the reference.
``hallucination_rate_noise``: the share of noise-only and silence segments that produce any text.
The ROS transport is left out (it adds latency, not errors); the pipeline bench measures latency.
"""
from __future__ import annotations

from collections import defaultdict
import time

import numpy as np

from l2b2_common.bench import percentile
from l2b2_common.config import config_path, load_yaml
from l2b2_speech.asr_engine import SAMPLE_RATE, AsrRouter
from l2b2_speech.asr_setup import build_engines
from l2b2_speech.audio import silence
from l2b2_speech.models import load_models
from l2b2_speech.spoken_audio import (
    babble,
    mix,
    pink_noise,
    scaled,
    speak,
    voice_for,
    word_errors,
)
from l2b2_speech.transcribe import configured_choice
from l2b2_speech.vad import VadConfig, VadSegmenter

SNRS = (30, 20, 10)
BLOCK = SAMPLE_RATE // 50


def vad_config() -> tuple[VadConfig, float]:
    """audio_input's VAD settings and the ASR's minimum segment length, from their config files."""
    p = (load_yaml(config_path('audio_input.yaml')) or {}).get('audio_input', {}).get('ros__parameters', {})
    asr = (load_yaml(config_path('asr.yaml')) or {}).get('asr', {}).get('ros__parameters', {})
    return VadConfig(aggressiveness=p.get('vad_aggressiveness', 2), start_frames=p.get('vad_start_frames', 4),
                     end_silence_ms=p.get('end_silence_ms', 400), pre_roll_ms=p.get('pre_roll_ms', 200),
                     max_segment_s=float(p.get('max_segment_s', 15.0)),
                     energy_floor_dbfs=float(p.get('energy_floor_dbfs', -50.0))), float(asr.get('min_segment_s', 0.4))


class Listener:
    """VAD -> ASR as the nodes do it, without ROS: segments of a fed recording, each decoded and timed."""

    def __init__(self, router: AsrRouter):
        self.router = router
        self.vad, self.min_segment_s = vad_config()
        self.decode_s: list[float] = []

    def segments(self, audio: np.ndarray) -> list[np.ndarray]:
        seg = VadSegmenter(self.vad)
        parts: dict[int, list[np.ndarray]] = defaultdict(list)
        chunks = []
        for i in range(0, audio.size, BLOCK):
            chunks += seg.feed(audio[i:i + BLOCK])
        chunks += seg.flush()
        for c in chunks:
            parts[c.segment_id].append(c.samples)
        out = [np.concatenate(p) for p in parts.values()]
        return [s for s in out if s.size >= self.min_segment_s * SAMPLE_RATE]

    def hear(self, audio: np.ndarray, timed: bool = True) -> list:
        results = []
        for segment in self.segments(audio):
            stream = self.router.open_stream(None)
            t0 = time.perf_counter()
            stream.accept(segment)
            result = stream.finish()
            if timed:
                self.decode_s.append(time.perf_counter() - t0)
            if result is not None:
                results.append(result)
        return results


def pick(examples: list, n: int) -> list:
    """``n`` examples spread evenly over the file (it is ordered by intent: every intent gets a share)."""
    if n >= len(examples):
        return list(examples)
    return [examples[int(i * len(examples) / n)] for i in range(n)]


def noise_only_segments(count: int, babble_voices: list[np.ndarray], seconds: float = 3.0) -> list[tuple[str, np.ndarray]]:
    """``count`` segments without a visitor's speech: silence, hiss, pink noise, hum, knocks and distant babble."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    kinds = []
    for i in range(count):
        rng = np.random.default_rng(1000 + i)
        kind = ('silence', 'white', 'pink', 'hum', 'knocks', 'babble')[i % 6]
        if kind == 'silence':
            x = silence(seconds) if i % 12 == 0 else scaled(rng.normal(size=n), -70.0)
        elif kind == 'white':
            x = scaled(rng.normal(size=n), float(rng.uniform(-50, -25)))
        elif kind == 'pink':
            x = scaled(pink_noise(n, 1000 + i), float(rng.uniform(-45, -20)))
        elif kind == 'hum':
            hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 5))
            x = scaled(hum / np.sqrt(np.mean(hum ** 2)) + 0.1 * rng.normal(size=n), float(rng.uniform(-40, -20)))
        elif kind == 'knocks':
            x = np.zeros(n)
            for at in rng.integers(0, n - 800, size=int(rng.integers(2, 6))):
                x[at:at + 800] += rng.normal(size=800) * np.exp(-np.arange(800) / 120.0)
            x = scaled(x / (np.sqrt(np.mean(x ** 2)) or 1.0), float(rng.uniform(-40, -25)))
        else:  # a waiting room far away: many voices, none intelligible
            x = scaled(babble(n, babble_voices, 1000 + i), float(rng.uniform(-45, -30)))
        kinds.append((kind, x))
    return kinds


def run_spoken(n: int, snrs: tuple[int, ...], noise_count: int, figures: dict, rows: list, notes: list,
               engine_factory=None) -> None:
    from l2b2_common.tunables import validated
    from l2b2_dialogue.bench import DEV_FILE, HELDOUT_FILE, is_correct, load_examples, outcome
    from l2b2_dialogue.combine import weighed_by_asr
    from l2b2_dialogue.nlu import Understander
    from l2b2_dialogue.settings import Settings

    # The dialogue's use of the recogniser's confidence (config/dialogue.yaml): what the robot would do.
    params = (load_yaml(config_path('dialogue.yaml')) or {}).get('dialogue', {}).get('ros__parameters', {})
    dialogue = validated(Settings, 'dialogue', **{k: v for k, v in params.items() if k in Settings.__dataclass_fields__})

    nlu = Understander()
    engines, problems = (engine_factory or (lambda: build_engines(load_models(), configured_choice(None))))()
    if problems:
        notes.append('spoken section: ' + '; '.join(problems))
    router = AsrRouter(engines)
    for engine in {id(e): e for e in engines.values()}.values():  # as the node does before the first segment
        getattr(engine, 'warm_up', lambda: None)()
    listener = Listener(router)
    heldout = load_examples(HELDOUT_FILE)
    # Babble: dev-set sentences (never the ones measured) spoken by other voices.
    dev = load_examples(DEV_FILE)
    babble_voices = [speak(ex.text, ex.language, voice_for(7 + k)) for k, ex in enumerate(pick(dev, 6))]
    try:
        for lang in ('de', 'tr'):
            sample = pick([ex for ex in heldout if ex.language == lang], n)
            typed = [is_correct(ex, nlu.understand(ex.text, ex.language)) for ex in sample]
            figures[f'typed_accuracy_{lang}'] = round(float(np.mean(typed)), 3) if typed else None
            lang_ok = []
            for snr in snrs:
                correct, acted_wrong, errors, ref_words = [], [], 0, 0
                for i, ex in enumerate(sample):
                    voice = voice_for(i)
                    speech = speak(ex.text, lang, voice)
                    kind = 'pink' if i % 2 == 0 else 'babble'
                    total = int(0.5 * SAMPLE_RATE) + speech.size + int(0.8 * SAMPLE_RATE)
                    noise = pink_noise(total, i) if kind == 'pink' else babble(total, babble_voices, i)
                    padded = np.concatenate([silence(0.5), speech, silence(0.8)])
                    results = listener.hear(mix(padded, noise, snr) if snr is not None else padded)
                    text = ' '.join(r.text for r in results)
                    heard_lang = results[0].language if results else ''
                    if snr == 20 or (20 not in snrs and snr == snrs[0]):
                        lang_ok.append(heard_lang == lang)
                    u = nlu.understand(text, heard_lang if heard_lang in ('de', 'tr') else '')
                    correct.append(bool(text) and is_correct(ex, u))
                    # What the robot does with it: weighed by the recogniser's confidence, a wrong place or intent
                    # given without asking (nothing heard, or "not understood", sends nobody anywhere).
                    heard = weighed_by_asr(u, min((r.confidence for r in results), default=0.0),
                                           dialogue.asr_reject_below, dialogue.asr_ask_below,
                                           dialogue.candidate_min_confidence)
                    acted_wrong.append(bool(text) and outcome(ex, heard, nlu.threshold) == 'confident_wrong')
                    e, r = word_errors(ex.text, text, lang)
                    errors, ref_words = errors + e, ref_words + r
                    rows.append({'measure': 'spoken', 'language': lang, 'snr_db': snr, 'noise': kind,
                                 'voice': str(voice), 'ok': correct[-1], 'heard_language': heard_lang,
                                 'word_errors': e, 'words': r})
                figures[f'spoken_accuracy_{lang}_snr{snr}'] = round(float(np.mean(correct)), 3) if correct else None
                figures[f'wer_{lang}_snr{snr}'] = round(errors / ref_words, 3) if ref_words else None
                figures[f'spoken_confident_wrong_{lang}_snr{snr}'] = (round(float(np.mean(acted_wrong)), 3)
                                                                      if acted_wrong else None)
            figures[f'language_id_accuracy_{lang}'] = round(float(np.mean(lang_ok)), 3) if lang_ok else None
            figures[f'spoken_sentences_{lang}'] = len(sample)
        invented = defaultdict(list)
        for kind, audio in noise_only_segments(noise_count, babble_voices):
            invented[kind].append(bool(listener.hear(audio, timed=False)))
        flat = [v for vs in invented.values() for v in vs]
        figures['hallucination_rate_noise'] = round(float(np.mean(flat)), 3) if flat else None
        figures['hallucination_noise_segments'] = len(flat)
        figures['hallucination_by_kind'] = {k: f'{sum(v)}/{len(v)}' for k, v in invented.items()}
        figures['decode_p50_ms'] = round(percentile(listener.decode_s, 50) * 1000, 1) if listener.decode_s else None
        figures['decode_p95_ms'] = round(percentile(listener.decode_s, 95) * 1000, 1) if listener.decode_s else None
        figures['decode_segments'] = len(listener.decode_s)
    finally:
        router.close()
    notes.append(f'spoken section: {n} held-out sentences per language (of {len(heldout)}), SNR {list(snrs)} dB '
                 '(even sentences pink noise, odd babble), voices varied over espeak-ng variants x rates x pitches; '
                 f'{noise_count} noise-only/silence segments; decode_* over the VAD segments of the sentences, on a machine shared with other work.')

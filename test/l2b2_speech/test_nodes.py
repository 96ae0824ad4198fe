"""The speech nodes on a real ROS graph: audio_input -> asr with synthesized speech, tts with
priorities, barge-in, stop and e-stop, and degraded start-up with missing or broken models."""
from __future__ import annotations

import difflib
import threading

from l2b2_interfaces.msg import AudioChunk, ComponentHealth, RecognizedSpeech, SafetyState, SayRequest, SpeechStatus
import numpy as np
import pytest
from rclpy.parameter import Parameter
from std_msgs.msg import Empty

from l2b2_common.catalog import LANGUAGES
from l2b2_common.qos import AUDIO, LATCHED, RELIABLE, STATUS
from l2b2_speech.asr_engine import AsrEngine, BufferedStream, Transcript
from l2b2_speech.asr_node import AsrNode
from l2b2_speech.audio import ASR_RATE, noise, silence, visitor_speech, write_wav
from l2b2_speech.audio_input_node import AudioInputNode
from l2b2_speech.tts_node import TtsNode

DISCOVERY = 15.0
RECOGNITION = 60.0


class Inbox:
    """Collects the messages of one topic (thread-safe)."""

    def __init__(self, ros, msg_type, topic, qos=RELIABLE, node=None):
        self.items, self._lock = [], threading.Lock()
        (node or ros.node(f'inbox_{topic.strip("/").replace("/", "_")}')).create_subscription(
            msg_type, topic, self._add, qos)

    def _add(self, msg):
        with self._lock:
            self.items.append(msg)

    def find(self, predicate):
        with self._lock:
            return next((m for m in self.items if predicate(m)), None)

    def all(self, predicate=lambda m: True):
        with self._lock:
            return [m for m in self.items if predicate(m)]


def params(**values):
    return [Parameter(k, value=v) for k, v in values.items()]


def models_file(tmp_path, text: str):
    f = tmp_path / 'speech_models.yaml'
    f.write_text(text, encoding='utf-8')
    return str(f)


def wait_matched(ros, publisher, what):
    ros.wait_for(lambda: publisher.get_subscription_count() > 0, DISCOVERY, f'subscriber of {what}')


def utterance(text, language):
    return np.concatenate([silence(0.4), visitor_speech(text, language, 130), silence(0.8)])


def raw(samples, rate=ASR_RATE):
    return AudioChunk(sample_rate=rate, samples=np.asarray(samples, dtype=np.int16).tolist())


def health_of(inbox, component, level=None, contains=''):
    return inbox.find(lambda m: m.component == component and (level is None or m.level == level)
                      and contains in m.message)


def close(text, keyword):
    words = [w.strip('.,!?').lower() for w in text.split()]
    return bool(difflib.get_close_matches(keyword.lower(), words, n=1, cutoff=0.7))


# --- listening ------------------------------------------------------------------------------------------
@pytest.fixture
def listening(ros):
    probe = ros.node('probe')
    recognized = Inbox(ros, RecognizedSpeech, '/speech/recognized', node=probe)
    chunks = Inbox(ros, AudioChunk, '/audio/chunks', node=probe)
    health = Inbox(ros, ComponentHealth, '/l2b2/health', node=probe)
    ros.add(AudioInputNode(context=ros.context, parameter_overrides=params(source='topic')))
    asr = ros.add(AsrNode(context=ros.context))
    pub = probe.create_publisher(AudioChunk, '/audio/raw', RELIABLE)
    wait_matched(ros, pub, '/audio/raw')
    ros.wait_for(lambda: asr.count_publishers('/audio/chunks') > 0 and probe.count_publishers('/speech/recognized'),
                 DISCOVERY, 'speech graph')
    return probe, pub, recognized, chunks, health, asr


@pytest.mark.slow
def test_german_and_turkish_speech_on_audio_raw_is_recognized_with_language_and_timings(ros, listening):
    probe, pub, recognized, chunks, health, asr = listening
    ros.wait_for(lambda: health_of(health, 'asr', ComponentHealth.OK, 'de=whisper'), DISCOVERY, 'asr ready')
    pub.publish(raw(utterance('Guten Tag, wo ist das Standesamt?', 'de')))
    de = ros.wait_for(lambda: recognized.find(lambda m: m.language == 'de'), RECOGNITION, 'German utterance')
    assert de.source == 'whisper' and close(de.text, 'Guten') and 0 < de.confidence <= 1
    start, end = (de.speech_start.sec + de.speech_start.nanosec * 1e-9, de.speech_end.sec + de.speech_end.nanosec * 1e-9)
    assert 1.0 < end - start < 4.0
    # Chunks and transcripts travel on different topics: the chunks may still be on their way.
    segment = ros.wait_for(lambda: chunks.find(lambda c: c.segment_start), DISCOVERY, 'the segment start chunk')
    ros.wait_for(lambda: chunks.find(lambda c: c.segment_end and c.segment_id == segment.segment_id), DISCOVERY,
                 'the segment end chunk')
    pub.publish(raw(utterance('Merhaba, pasaport başvurusu yapmak istiyorum.', 'tr')))
    tr = ros.wait_for(lambda: recognized.find(lambda m: m.language == 'tr'), RECOGNITION, 'Turkish utterance')
    assert close(tr.text, 'pasaport')


@pytest.mark.slow
def test_garbage_audio_yields_no_utterance_and_no_crash(ros, listening):
    probe, pub, recognized, chunks, health, asr = listening
    chunk_pub = probe.create_publisher(AudioChunk, '/audio/chunks', RELIABLE)
    wait_matched(ros, chunk_pub, '/audio/chunks')
    pub.publish(raw(silence(2.0)))
    pub.publish(raw(noise(2.0, 0.3)))
    pub.publish(raw(noise(2.0, 3.0)))  # clipped
    pub.publish(raw(noise(1.0, 0.3, rate=44100), rate=44100))
    pub.publish(raw(noise(0.5), rate=0))  # nonsense rate: dropped
    pub.publish(raw([]))
    # A segment at the wrong rate straight to the ASR: ignored.
    speech8k = visitor_speech('Guten Tag', 'de')[::2]
    chunk_pub.publish(AudioChunk(sample_rate=8000, samples=speech8k.tolist(), segment_id=900, segment_start=True))
    chunk_pub.publish(AudioChunk(sample_rate=8000, samples=[], segment_id=900, segment_end=True))
    # The sentinel: real speech after the garbage is the only thing recognized (decoding is in order).
    pub.publish(raw(utterance('Guten Tag, wo ist das Standesamt?', 'de')))
    ros.wait_for(lambda: recognized.items, RECOGNITION, 'the sentinel utterance')
    assert len(recognized.items) == 1 and recognized.items[0].language == 'de'


@pytest.mark.slow
def test_asr_ignores_the_robots_own_voice(ros, listening):
    probe, pub, recognized, chunks, health, asr = listening
    status = probe.create_publisher(SpeechStatus, '/speech/status', STATUS)
    status.publish(SpeechStatus(state=SpeechStatus.SPEAKING, utterance_id='robot'))
    ros.wait_for(lambda: asr._speaking, DISCOVERY, 'the ASR hearing that the robot speaks')
    pub.publish(raw(utterance('Bitte folgen Sie mir.', 'de')))
    ros.wait_for(lambda: chunks.find(lambda c: c.segment_end), RECOGNITION, 'the robot-voice segment')
    status.publish(SpeechStatus(state=SpeechStatus.IDLE, utterance_id='robot'))
    ros.wait_for(lambda: not asr._speaking, DISCOVERY, 'the ASR hearing that the robot is quiet again')
    pub.publish(raw(utterance('Guten Tag, wo ist das Standesamt?', 'de')))
    ros.wait_for(lambda: recognized.items, RECOGNITION, 'the visitor utterance')
    assert len(recognized.items) == 1 and close(recognized.items[0].text, 'Guten')


def test_vosk_node_with_grammar_recognizes_korean(ros, tmp_path, vosk_ko_path):
    probe = ros.node('probe')
    recognized = Inbox(ros, RecognizedSpeech, '/speech/recognized', node=probe)
    f = models_file(tmp_path, f'version: 1\nvosk: {{ko: "{vosk_ko_path}"}}\n')
    phrases = ['안녕하세요', '여권', '신청', '감사합니다']
    ros.add(AsrNode(context=ros.context, parameter_overrides=params(
        models_file=f, languages=['ko'], grammar_extra='|'.join(phrases))))
    pub = probe.create_publisher(AudioChunk, '/audio/chunks', RELIABLE)
    wait_matched(ros, pub, '/audio/chunks')
    audio = np.concatenate([silence(0.2), visitor_speech('안녕하세요 여권 신청', 'ko'), silence(0.3)])
    pub.publish(AudioChunk(sample_rate=ASR_RATE, samples=audio[:3200].tolist(), segment_id=1, segment_start=True))
    pub.publish(AudioChunk(sample_rate=ASR_RATE, samples=audio[3200:].tolist(), segment_id=1, segment_end=True))
    msg = ros.wait_for(lambda: recognized.items, RECOGNITION, 'Korean utterance')[0]
    assert msg.source == 'vosk' and msg.language == 'ko'
    assert '여권' in msg.text.split() and set(msg.text.split()) <= set(phrases)


def test_asr_with_missing_and_broken_models_starts_degraded(ros, tmp_path):
    probe = ros.node('probe')
    health = Inbox(ros, ComponentHealth, '/l2b2/health', node=probe)
    broken = tmp_path / 'broken-whisper'
    broken.mkdir()
    for name in ('model.bin', 'config.json', 'tokenizer.json', 'vocabulary.txt'):
        (broken / name).write_bytes(b'junk')
    f = models_file(tmp_path, f'version: 1\nvosk: {{de: "{tmp_path}/no-vosk-de"}}\nwhisper: {{path: "{broken}"}}\n')
    ros.add(AsrNode(context=ros.context, parameter_overrides=params(models_file=f)))
    msg = ros.wait_for(lambda: health_of(health, 'asr', ComponentHealth.DEGRADED), DISCOVERY, 'degraded health')
    assert 'vosk de model not found' in msg.message and 'cannot be loaded' in msg.message
    assert 'touch screen only' in msg.message
    # Still alive: health keeps coming.
    ros.wait_for(lambda: len(health.all(lambda m: m.component == 'asr')) >= 2, DISCOVERY, 'periodic health')


class WarmUpFailsEngine(AsrEngine):
    """An engine that cannot warm up but decodes: every segment of enough audio is 'hallo'."""
    name = 'warmupfails'

    @property
    def languages(self):
        return ('de',)

    def warm_up(self):
        raise RuntimeError('warm-up exploded')

    def open_stream(self, languages):
        return BufferedStream(lambda audio, langs: Transcript('hallo', 'de', 0.9, 0.0, audio.size / ASR_RATE,
                                                              self.name), languages)


class AsrNodeWithWarmUpFailure(AsrNode):
    def _build_engines(self, models, choice):
        return {'de': WarmUpFailsEngine()}, []


def test_asr_whose_engine_fails_to_warm_up_reports_degraded_and_still_recognizes(ros, tmp_path):
    probe = ros.node('probe')
    health = Inbox(ros, ComponentHealth, '/l2b2/health', node=probe)
    recognized = Inbox(ros, RecognizedSpeech, '/speech/recognized', node=probe)
    f = models_file(tmp_path, f'version: 1\nvosk: {{de: "{tmp_path}/unused"}}\n')
    ros.add(AsrNodeWithWarmUpFailure(context=ros.context, parameter_overrides=params(models_file=f, languages=['de'])))
    msg = ros.wait_for(lambda: health_of(health, 'asr', ComponentHealth.DEGRADED, 'warm-up failed'), DISCOVERY,
                       'degraded health after the failed warm-up')
    assert 'warm-up exploded' in msg.message and 'for de' in msg.message
    pub = probe.create_publisher(AudioChunk, '/audio/chunks', RELIABLE)
    wait_matched(ros, pub, '/audio/chunks')
    audio = visitor_speech('Hallo', 'de')
    pub.publish(AudioChunk(sample_rate=ASR_RATE, samples=audio.tolist(), segment_id=1, segment_start=True))
    pub.publish(AudioChunk(sample_rate=ASR_RATE, samples=[], segment_id=1, segment_end=True))
    out = ros.wait_for(lambda: recognized.items, DISCOVERY, 'recognition after the failed warm-up')[0]
    assert out.text == 'hallo' and out.source == 'warmupfails'


# --- audio input ------------------------------------------------------------------------------------------
def test_wav_source_segments_a_file(ros, tmp_path):
    wav = tmp_path / 'visitor.wav'
    lead_in = 1.0  # silence before the first word: time for the probe to be matched
    audio = np.concatenate([silence(lead_in), visitor_speech('Guten Tag.', 'de'), silence(0.8),
                            visitor_speech('Danke schön.', 'de'), silence(0.5)])
    write_wav(wav, audio, ASR_RATE)
    probe = ros.node('probe')
    chunks = Inbox(ros, AudioChunk, '/audio/chunks', node=probe)
    node = AudioInputNode(context=ros.context, parameter_overrides=params(source='wav', wav_path=str(wav)))
    ros.add(node)
    # The WAV plays from the constructor on: the probe must be matched while it is still in the lead-in
    # silence (no segment can have been published yet), else the first segment may be lost.
    ros.wait_for(lambda: node.pub.get_subscription_count() > 0, DISCOVERY, 'probe matched to /audio/chunks')
    with node._lock:
        heard = node._samples_in
    assert heard < lead_in * ASR_RATE, 'probe matched only after the WAV speech began'
    ros.wait_for(lambda: len(chunks.all(lambda c: c.segment_end)) >= 2, DISCOVERY + audio.size / ASR_RATE,
                 'two segments from the WAV')
    starts = chunks.all(lambda c: c.segment_start)
    assert [c.segment_id for c in starts][:2] == [1, 2]
    assert all(c.sample_rate == ASR_RATE for c in chunks.items)


def test_microphone_without_device_is_degraded_not_dead(ros):
    probe = ros.node('probe')
    health = Inbox(ros, ComponentHealth, '/l2b2/health', node=probe)
    ros.add(AudioInputNode(context=ros.context, parameter_overrides=params(source='microphone',
                                                                          device='no-such-microphone')))
    msg = ros.wait_for(lambda: health_of(health, 'audio_input', ComponentHealth.DEGRADED), DISCOVERY, 'degraded')
    assert 'touch screen only' in msg.message


# --- speaking ---------------------------------------------------------------------------------------------
@pytest.fixture
def speaking(ros):
    probe = ros.node('probe')
    status = Inbox(ros, SpeechStatus, '/speech/status', STATUS, node=probe)
    audio_out = Inbox(ros, AudioChunk, '/audio/tts_out', qos=AUDIO, node=probe)
    health = Inbox(ros, ComponentHealth, '/l2b2/health', node=probe)
    say = probe.create_publisher(SayRequest, '/speech/say', RELIABLE)
    return probe, say, status, audio_out, health


def start_tts(ros, say, status, **overrides):
    node = ros.add(TtsNode(context=ros.context, parameter_overrides=params(**overrides)))
    wait_matched(ros, say, '/speech/say')
    ros.wait_for(lambda: status.items, DISCOVERY, 'initial idle status')
    return node


def spoken(status, uid):
    return status.find(lambda m: m.utterance_id == uid and m.state == SpeechStatus.SPEAKING)


def ended(status, uid):
    return status.find(lambda m: m.utterance_id == uid and m.state == SpeechStatus.IDLE)


@pytest.mark.parametrize(('text', 'language'), [
    ('Grüß Gott! Die Ausländerbehörde ist im Erdgeschoß, Zimmer 3.', 'de'),
    ('Çok teşekkürler. İşte sıra numaranız: ğ ı İ ö ş ü ç.', 'tr'),
    ('Please follow me.', 'en'),
])
def test_tts_speaks_and_passes_text_through_unchanged(ros, speaking, text, language):
    probe, say, status, audio_out, health = speaking
    start_tts(ros, say, status)
    say.publish(SayRequest(utterance_id='u1', text=text, language=language))
    start = ros.wait_for(lambda: spoken(status, 'u1'), DISCOVERY, 'SPEAKING')
    assert start.text == text and start.language == language
    end = ros.wait_for(lambda: ended(status, 'u1'), 30, 'IDLE')
    assert not end.interrupted and end.text == text
    # Audio and status travel on different topics: wait for the sentence's audio to have arrived.
    ros.wait_for(lambda: audio_out.items and sum(len(c.samples) for c in audio_out.all())
                 > 0.5 * audio_out.items[0].sample_rate, 30, 'at least half a second of speech on /audio/tts_out')


def test_barge_in_stops_an_interruptible_sentence_but_not_a_fixed_one(ros, speaking):
    probe, say, status, audio_out, health = speaking
    start_tts(ros, say, status)
    ros.add(AudioInputNode(context=ros.context, parameter_overrides=params(source='topic')))
    visitor = probe.create_publisher(AudioChunk, '/audio/raw', RELIABLE)
    wait_matched(ros, visitor, '/audio/raw')
    long_text = 'Die Pass- und Ausweisstelle finden Sie im ersten Stock. ' * 4
    say.publish(SayRequest(utterance_id='fixed', text='Achtung, der Roboter fährt los.', language='de',
                           interruptible=False))
    ros.wait_for(lambda: spoken(status, 'fixed'), DISCOVERY, 'fixed sentence starts')
    visitor.publish(raw(np.concatenate([visitor_speech('Hallo', 'de'), silence(0.5)])))
    assert not ros.wait_for(lambda: ended(status, 'fixed'), 30, 'fixed sentence ends').interrupted
    say.publish(SayRequest(utterance_id='long', text=long_text, language='de', interruptible=True))
    ros.wait_for(lambda: spoken(status, 'long'), DISCOVERY, 'long sentence starts')
    visitor.publish(raw(np.concatenate([visitor_speech('Entschuldigung', 'de'), silence(0.5)])))
    end = ros.wait_for(lambda: ended(status, 'long'), DISCOVERY, 'barge-in')
    assert end.interrupted


def test_stop_estop_and_priorities(ros, speaking):
    probe, say, status, audio_out, health = speaking
    start_tts(ros, say, status)
    stop = probe.create_publisher(Empty, '/speech/stop', RELIABLE)
    safety = probe.create_publisher(SafetyState, '/safety/state', LATCHED)
    long_text = 'Bitte warten Sie hier, bis Ihre Nummer aufgerufen wird. ' * 4
    # /speech/stop silences at once and drops the queue.
    say.publish(SayRequest(utterance_id='a', text=long_text, language='de', interruptible=False))
    say.publish(SayRequest(utterance_id='queued', text='Noch etwas.', language='de'))
    ros.wait_for(lambda: spoken(status, 'a'), DISCOVERY, 'a starts')
    wait_matched(ros, stop, '/speech/stop')
    stop.publish(Empty())
    assert ros.wait_for(lambda: ended(status, 'a'), DISCOVERY, 'a stopped').interrupted
    # HIGH cuts an interruptible sentence.
    say.publish(SayRequest(utterance_id='b', text=long_text, language='de', interruptible=True))
    ros.wait_for(lambda: spoken(status, 'b'), DISCOVERY, 'b starts')
    say.publish(SayRequest(utterance_id='high', text='Ihre Nummer: A 12.', language='de',
                           priority=SayRequest.PRIORITY_HIGH))
    assert ros.wait_for(lambda: ended(status, 'b'), DISCOVERY, 'b cut by high').interrupted
    ros.wait_for(lambda: ended(status, 'high'), 30, 'high spoken')
    # The e-stop silences; only safety sentences are spoken while it is engaged.
    say.publish(SayRequest(utterance_id='c', text=long_text, language='de', interruptible=False))
    ros.wait_for(lambda: spoken(status, 'c'), DISCOVERY, 'c starts')
    wait_matched(ros, safety, '/safety/state')
    safety.publish(SafetyState(estop_active=True, estop_source='scenario'))
    assert ros.wait_for(lambda: ended(status, 'c'), DISCOVERY, 'c stopped by estop').interrupted
    say.publish(SayRequest(utterance_id='ignored', text='Hallo.', language='de'))
    say.publish(SayRequest(utterance_id='safety', text='Nothalt.', language='de',
                           priority=SayRequest.PRIORITY_SAFETY))
    ros.wait_for(lambda: ended(status, 'safety'), 30, 'safety sentence')
    assert status.find(lambda m: m.utterance_id in ('queued', 'ignored')) is None


def test_a_new_conversation_silences_the_last_ones_sentences(ros, speaking):
    """The next visitor neither hears nor reads (subtitles follow the TTS) the last visitor's number."""
    probe, say, status, audio_out, health = speaking
    start_tts(ros, say, status)
    long_text = 'Auf Wiedersehen und einen schönen Tag im Bürgerbüro. ' * 4
    say.publish(SayRequest(utterance_id='bye', text=long_text, language='de', conversation_id='A'))
    say.publish(SayRequest(utterance_id='number', text='Ihre Wartenummer ist 6.', language='de', conversation_id='A'))
    say.publish(SayRequest(utterance_id='staff', text='Einen Moment bitte.', language='de'))
    ros.wait_for(lambda: spoken(status, 'bye'), DISCOVERY, 'the farewell starts')
    say.publish(SayRequest(utterance_id='hello', text='Merhaba!', language='tr', conversation_id='B'))
    assert ros.wait_for(lambda: ended(status, 'bye'), DISCOVERY, 'farewell cut short').interrupted
    ros.wait_for(lambda: ended(status, 'hello'), 30, 'the greeting of the new conversation')
    assert spoken(status, 'staff') is not None and spoken(status, 'number') is None


def test_tts_with_missing_and_broken_voices_falls_back_to_espeak(ros, speaking, tmp_path):
    probe, say, status, audio_out, health = speaking
    (tmp_path / 'tr.onnx').write_bytes(b'junk')
    (tmp_path / 'tr.onnx.json').write_text('{}')
    f = models_file(tmp_path, f'version: 1\npiper: {{de: "{tmp_path}/missing.onnx", tr: "{tmp_path}/tr.onnx"}}\n')
    start_tts(ros, say, status, models_file=f)
    msg = ros.wait_for(lambda: health_of(health, 'tts', ComponentHealth.DEGRADED), DISCOVERY, 'degraded health')
    assert 'piper de voice not found' in msg.message and 'piper tr voice' in msg.message
    assert 'espeak-ng' in msg.message
    say.publish(SayRequest(utterance_id='de', text='Guten Tag.', language='de'))
    say.publish(SayRequest(utterance_id='tr', text='İyi günler.', language='tr'))
    ros.wait_for(lambda: ended(status, 'tr'), 30, 'both spoken')
    assert not ended(status, 'de').interrupted and not ended(status, 'tr').interrupted


def test_tts_without_configured_voices_says_which_engine_speaks_each_language(ros, speaking, tmp_path):
    probe, say, status, audio_out, health = speaking
    f = models_file(tmp_path, 'version: 1\npiper: {}\n')
    start_tts(ros, say, status, models_file=f)
    msg = ros.wait_for(lambda: health_of(health, 'tts', ComponentHealth.OK), DISCOVERY, 'tts health')
    # The panel shows which voice speaks each language the dialogue speaks.
    assert 'voices ' + ', '.join(f'{lang}=espeak-ng' for lang in sorted(LANGUAGES)) in msg.message


def test_wav_dir_output_stores_only_when_configured_and_speaker_without_device_degrades(ros, speaking, tmp_path):
    probe, say, status, audio_out, health = speaking
    folder = tmp_path / 'spoken'
    start_tts(ros, say, status, output='wav_dir', wav_dir=str(folder), realtime=False)
    say.publish(SayRequest(utterance_id='w1', text='Schönen Tag noch!', language='de'))
    ros.wait_for(lambda: ended(status, 'w1'), 30, 'spoken to WAV')
    files = list(folder.glob('*.wav'))
    assert len(files) == 1 and files[0].stat().st_size > 10_000
    assert not audio_out.items  # nothing on the topic in wav_dir mode
    ros.add(TtsNode(context=ros.context, parameter_overrides=params(output='speaker', device='no-such-speaker')))
    msg = ros.wait_for(lambda: health_of(health, 'tts', ComponentHealth.DEGRADED, 'no speaker'), DISCOVERY,
                       'speaker degraded')
    assert 'subtitles only' in msg.message


@pytest.mark.slow
def test_barge_in_utterance_is_recognized_after_the_robot_stops(ros, listening):
    probe, pub, recognized, chunks, health, asr = listening
    status = Inbox(ros, SpeechStatus, '/speech/status', STATUS, node=probe)
    say = probe.create_publisher(SayRequest, '/speech/say', RELIABLE)
    start_tts(ros, say, status)
    say.publish(SayRequest(utterance_id='long', text='Bitte nehmen Sie im Wartebereich Platz. ' * 6, language='de',
                           interruptible=True))
    ros.wait_for(lambda: spoken(status, 'long'), DISCOVERY, 'robot speaking')
    pub.publish(raw(utterance('Guten Tag, wo ist das Standesamt?', 'de')))
    assert ros.wait_for(lambda: ended(status, 'long'), DISCOVERY, 'barge-in').interrupted
    msg = ros.wait_for(lambda: recognized.items, RECOGNITION, 'the barge-in utterance')[0]
    assert msg.language == 'de' and close(msg.text, 'Guten')

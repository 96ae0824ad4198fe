"""TTS node: /speech/say -> the robot's voice, with priorities, barge-in, /speech/stop and the e-stop.

Publishes latched /speech/status: SPEAKING (with the utterance id) when the first audio is ready,
IDLE when done or cut short (``interrupted``). Barge-in: the first VAD chunk of a visitor segment on
/audio/chunks stops an interruptible sentence within one 20 ms block. Default output (simulation):
AudioChunk blocks on /audio/tts_out. Nothing is stored unless ``wav_dir`` output is configured.
"""
from __future__ import annotations

from dataclasses import dataclass
import threading

from l2b2_interfaces.msg import AudioChunk, SafetyState, SayRequest, SpeechStatus
import numpy as np
from std_msgs.msg import Empty

from l2b2_common.catalog import LANGUAGES
from l2b2_common.codes import HealthLevel
from l2b2_common.config import ConfigError, config_path
from l2b2_common.health import HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import AUDIO, LATCHED, RELIABLE, STATUS
from l2b2_common.tunables import declare_tunables, tunable
from l2b2_speech.audio import resample
from l2b2_speech.audio_out import AudioSink, CallbackSink, NullSink, SpeakerSink, WavDirSink
from l2b2_speech.espeak_engine import EspeakEngine
from l2b2_speech.models import load_models
from l2b2_speech.say_queue import SayQueue, Utterance
from l2b2_speech.tts_engine import TtsEngine, TtsRouter, VoiceError


@dataclass(frozen=True)
class TtsNodeParams:
    models_file: str = tunable('speech_models.yaml', 'Voice paths per language (file under config/ or absolute).')
    output: str = tunable('topic', 'speaker (sounddevice), wav_dir (stores audio: only if wanted), topic '
                          '(/audio/tts_out, simulation) or null.', choices=('speaker', 'wav_dir', 'topic', 'null'))
    wav_dir: str = tunable('', 'Folder for output "wav_dir".')
    device: str = tunable('', 'sounddevice output device; empty = system default.')
    block_ms: int = tunable(20, 'Playback block: the longest a stop or barge-in waits.', min=5, max=100)
    realtime: bool = tunable(True, 'Play at real-time pace (false: as fast as synthesized, for benchmarks).')
    barge_in: bool = tunable(True, 'Stop an interruptible sentence when the visitor starts speaking.')
    default_language: str = tunable('de', 'Language of requests that name none.')
    espeak_rate_wpm: int = tunable(160, 'espeak-ng speaking rate.', min=80, max=400)


class TtsNode(LeanNode):
    def __init__(self, **kwargs):
        super().__init__('tts', **kwargs)
        self.p = declare_tunables(self, TtsNodeParams)
        self.health = HealthReporter(self, 'tts')
        self.queue = SayQueue()
        self._cv = threading.Condition()
        self._cancel = threading.Event()
        self._closing = False
        self.status_pub = self.create_publisher(SpeechStatus, '/speech/status', STATUS)
        self.audio_pub = self.create_publisher(AudioChunk, '/audio/tts_out', AUDIO)
        self._problems: list[str] = []
        self.router = self._load_voices()
        self.sink = self._make_sink()
        self._publish_status(SpeechStatus.IDLE, None, False)
        self.create_subscription(SayRequest, '/speech/say', self._on_say, RELIABLE)
        self.create_subscription(Empty, '/speech/stop', self._on_stop, RELIABLE)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED)
        self.create_subscription(AudioChunk, '/audio/chunks', self._on_visitor_audio, AUDIO)
        self._worker = threading.Thread(target=self._speak_loop, daemon=True, name='tts-play')
        self._worker.start()
        self._report_health()

    # --- set-up ---------------------------------------------------------------------------------------
    def _load_voices(self) -> TtsRouter:
        preferred: dict[str, TtsEngine] = {}
        try:
            models = load_models(config_path(self.p.models_file))
            voices = {lang: path for lang, path in models.piper.items() if path is not None}
        except ConfigError as exc:
            self._problems.append(f'speech models config unusable: {exc}')
            voices = {}
        for lang, path in voices.items():
            try:
                from l2b2_speech.piper_engine import PiperEngine
                preferred[lang] = PiperEngine(path, lang)
            except (VoiceError, ImportError) as exc:
                self._problems.append(f'{exc}; speaking {lang} with espeak-ng')
        try:
            fallback = EspeakEngine(rate_wpm=self.p.espeak_rate_wpm)
        except VoiceError as exc:
            fallback = None
            self._problems.append(str(exc))
        for problem in self._problems:
            self.get_logger().warning(problem)
        languages = sorted({*LANGUAGES, *preferred})
        self._voices = {lang: 'piper' if lang in preferred else 'espeak-ng' if fallback else 'none'
                        for lang in languages}
        unconfigured = [lang for lang in LANGUAGES if lang not in voices]
        if unconfigured and fallback is not None:  # said once, at start, not on the first sentence
            self.get_logger().warning(
                f'no Piper voice configured for {", ".join(unconfigured)} in {self.p.models_file}: speaking '
                'with espeak-ng (l2b2-fetch-models installs the German and Turkish voices)')
        self.get_logger().info(f'voices: {self._voice_summary()}')
        return TtsRouter(preferred, fallback, on_fallback=self._on_fallback)

    def _voice_summary(self) -> str:
        return ', '.join(f'{lang}={engine}' for lang, engine in self._voices.items())

    def _on_fallback(self, language: str, why: str) -> None:
        """Once per language. A Piper voice that failed while speaking degrades the health; a language
        without a Piper voice was already reported at start."""
        if self._voices.get(language) != 'piper':
            self._voices.setdefault(language, 'espeak-ng')
            return
        self.get_logger().warning(f'voice: {why}')
        self._voices[language] = 'espeak-ng'
        self._problems.append(f'{why}; speaking {language} with espeak-ng')
        self._report_health()

    def _make_sink(self) -> AudioSink:
        block, realtime = self.p.block_ms, self.p.realtime
        if self.p.output == 'topic':
            return CallbackSink(self._publish_audio, block, realtime)
        if self.p.output == 'wav_dir':
            if not self.p.wav_dir:
                self._problems.append('output wav_dir needs the wav_dir parameter; not playing audio')
                return NullSink(block, realtime)
            return WavDirSink(self.p.wav_dir, block, realtime)
        if self.p.output == 'speaker':
            device = int(self.p.device) if self.p.device.isdigit() else (self.p.device or None)
            try:
                return SpeakerSink(device, block)
            except Exception as exc:  # noqa: BLE001 - no PortAudio / no device: subtitles only
                self._problems.append(f'no speaker ({exc}); subtitles only')
        return NullSink(block, realtime)

    def _report_health(self) -> None:
        if self.router.engine_for(self.p.default_language) is None:
            self.health.set(HealthLevel.DEGRADED, 'no voice at all; subtitles only', problems=len(self._problems))
        elif self._problems:
            self.health.set(HealthLevel.DEGRADED, '; '.join(self._problems))
        else:
            self.health.set(HealthLevel.OK, f'ready ({self.p.output} output; voices {self._voice_summary()})')

    # --- requests -------------------------------------------------------------------------------------
    def _on_say(self, msg: SayRequest) -> None:
        u = Utterance(msg.utterance_id, msg.text, msg.language or self.p.default_language, msg.priority,
                      msg.interruptible, msg.conversation_id)
        if not u.text.strip():
            return
        with self._cv:
            accepted, interrupt = self.queue.submit(u)
            if not accepted:
                self.get_logger().info(f'not speaking {u.utterance_id!r}: emergency stop active')
                return
            if interrupt:
                self._interrupt('priority')
            self._cv.notify_all()

    def _on_stop(self, _msg: Empty) -> None:
        with self._cv:
            self.queue.clear()
            self._interrupt('stop')

    def _on_safety(self, msg: SafetyState) -> None:
        with self._cv:
            if self.queue.set_estop(msg.estop_active):
                self._interrupt('estop')

    def _on_visitor_audio(self, msg: AudioChunk) -> None:
        if not (msg.segment_start and self.p.barge_in):
            return
        with self._cv:
            if self.queue.barge_in_allowed():
                self._interrupt('barge_in')

    def _interrupt(self, why: str) -> None:
        """Cut the current sentence short (caller holds the lock)."""
        if self.queue.current is not None:
            self.get_logger().debug(f'cutting {self.queue.current.utterance_id!r} short: {why}')
            self._cancel.set()

    # --- playback (worker thread) ---------------------------------------------------------------------
    def _speak_loop(self) -> None:
        while True:
            with self._cv:
                while not self._closing and not self.queue.pending:
                    self._cv.wait()
                if self._closing:
                    return
                u = self.queue.take()
                self._cancel.clear()
            try:
                completed = self._speak(u)
            except Exception as exc:  # noqa: BLE001 - a failing device must not end the playback thread
                self.get_logger().error(f'playback failed: {exc}')
                completed = False
            with self._cv:
                self.queue.done()

            self._publish_status(SpeechStatus.IDLE, u, not completed)

    def _speak(self, u: Utterance) -> bool:
        started = False
        try:
            for block in self.router.synthesize(u.text, u.language):
                if self._cancel.is_set():
                    break
                if not started:
                    self.sink.open(block.sample_rate, u.utterance_id)
                    self._publish_status(SpeechStatus.SPEAKING, u, False)
                    started = True
                samples = block.samples if block.sample_rate == self.sink.rate else resample(
                    block.samples, block.sample_rate, self.sink.rate)
                if not self.sink.play(samples, self._cancel):
                    break
            else:
                if started:
                    self.sink.drain(self._cancel)
        except VoiceError as exc:
            self.get_logger().error(f'cannot speak {u.language!r}: {exc}')
        finally:
            if started:
                self.sink.close(self._cancel.is_set())
        return started and not self._cancel.is_set()

    def _publish_audio(self, samples: np.ndarray, rate: int, first: bool) -> None:
        msg = AudioChunk(sample_rate=rate, samples=samples.astype(np.int16).tolist(), segment_start=first)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = 'speaker'
        self.audio_pub.publish(msg)

    def _publish_status(self, state: int, u: Utterance | None, interrupted: bool) -> None:
        msg = SpeechStatus(state=state, interrupted=interrupted)
        if u is not None:
            msg.utterance_id, msg.text, msg.language = u.utterance_id, u.text, u.language
        msg.header.stamp = self.get_clock().now().to_msg()
        self.status_pub.publish(msg)

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self.queue.clear()
            self._cancel.set()
            self._cv.notify_all()
        self._worker.join(timeout=5.0)


def main(args=None):
    return run_node(TtsNode, args)

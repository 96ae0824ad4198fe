"""ASR node: VAD segments from /audio/chunks -> /speech/recognized, one message per utterance.

Engine per language from config: Vosk wherever a model path is configured, else faster-whisper
(the only German/Turkish model that ships). Audio heard while the robot itself speaks is dropped,
unless the visitor barged in (the TTS ended that sentence as interrupted), which is their turn.
Transcripts are never logged or stored.
"""
from __future__ import annotations

from dataclasses import dataclass
import queue
import threading

from builtin_interfaces.msg import Time
from l2b2_interfaces.msg import AudioChunk, RecognizedSpeech, SpeechStatus
import numpy as np
from rclpy.time import Duration
from rclpy.time import Time as RosTime

from l2b2_common.codes import HealthLevel
from l2b2_common.config import ConfigError, config_path
from l2b2_common.health import HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import AUDIO, RELIABLE, STATUS
from l2b2_common.tunables import declare_tunables, tunable
from l2b2_speech.asr_engine import SAMPLE_RATE, AsrRouter, AsrStream
from l2b2_speech.asr_setup import EngineChoice, build_engines
from l2b2_speech.models import load_models


@dataclass(frozen=True)
class AsrNodeParams:
    """The node's own parameters; the engine's are :class:`~l2b2_speech.asr_setup.EngineChoice`."""

    models_file: str = tunable('speech_models.yaml', 'Model paths per language (file under config/ or absolute).')
    min_segment_s: float = tunable(0.4, 'Shorter segments are clicks, not utterances.', min=0.0, max=5.0)
    barge_in_grace_s: float = tunable(
        0.5, 'A segment that overlapped the robot speaking waits this long for the TTS to report it was cut short '
        "(barge-in) before it is dropped as the robot's own voice.", min=0.0, max=5.0)


class _Segment:
    def __init__(self, stream: AsrStream, stamp: Time, overlapped: bool):
        self.stream, self.stamp, self.overlapped = stream, stamp, overlapped
        self.samples = 0
        self.barge_in = False
        self.rejected = False


class AsrNode(LeanNode):
    def __init__(self, **kwargs):
        super().__init__('asr', **kwargs)
        self.p = declare_tunables(self, AsrNodeParams)
        self.choice = declare_tunables(self, EngineChoice)
        self.health = HealthReporter(self, 'asr')
        self.router: AsrRouter | None = None
        self._speaking = False
        self._segments: dict[int, _Segment] = {}
        self._jobs: queue.Queue = queue.Queue()
        self._held: list[tuple[_Segment, RosTime]] = []  # overlapped the robot's voice: barge-in or echo?
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._bad_rate_warned = False
        self.pub = self.create_publisher(RecognizedSpeech, '/speech/recognized', RELIABLE)
        self.create_subscription(SpeechStatus, '/speech/status', self._on_status, STATUS)
        self._load_engines()
        self.create_subscription(AudioChunk, '/audio/chunks', self._on_chunk, AUDIO)
        self._worker = threading.Thread(target=self._work, daemon=True, name='asr-decode')
        self._worker.start()

    # --- engines --------------------------------------------------------------------------------------
    def _load_engines(self) -> None:
        try:
            models = load_models(config_path(self.p.models_file))
        except ConfigError as exc:
            self.health.set(HealthLevel.DEGRADED, f'speech models config unusable: {exc}; touch screen only')
            return
        chosen, problems = self._build_engines(models, self.choice)
        self.router = AsrRouter(chosen) if chosen else None
        summary = ', '.join(f'{lang}={engine.name}' for lang, engine in chosen.items()) or 'none'
        if problems:
            self.health.set(HealthLevel.DEGRADED, '; '.join(problems) + ('; touch screen only' if not chosen else ''),
                            engines=summary)
        else:
            self.health.set(HealthLevel.OK, f'listening ({summary})', engines=summary)

    def _build_engines(self, models, choice: EngineChoice):
        return build_engines(models, choice)  # a method: tests put their own engine here

    # --- audio ----------------------------------------------------------------------------------------
    def _on_status(self, msg: SpeechStatus) -> None:
        with self._lock:
            self._speaking = msg.state == SpeechStatus.SPEAKING
            if msg.state == SpeechStatus.IDLE and msg.interrupted:
                for seg in self._segments.values():  # the visitor's barge-in: their words count
                    seg.barge_in = True
                self._expire_held()
                for seg, _ in self._held:  # ended before the TTS reported the barge-in (bursty input)
                    self._jobs.put(seg)
                self._held.clear()

    def _expire_held(self) -> None:
        """Forget held segments whose grace has passed (caller holds the lock). Checked when the list is
        read or grows, not on a timer: an idle ASR does not wake up."""
        if self._held:
            now = self.get_clock().now()
            self._held = [(seg, deadline) for seg, deadline in self._held if deadline > now]

    def _on_chunk(self, msg: AudioChunk) -> None:
        if self.router is None:
            return
        with self._lock:
            seg = self._segments.get(msg.segment_id)
            if msg.segment_start:
                seg = _Segment(self.router.open_stream(), msg.header.stamp, overlapped=self._speaking)
                self._segments = {msg.segment_id: seg}  # a new segment ends any lost one
            if seg is None:
                return  # joined in the middle of a segment
            if msg.sample_rate != SAMPLE_RATE:
                seg.rejected = True
                if not self._bad_rate_warned:
                    self._bad_rate_warned = True
                    self.get_logger().warning(f'ignoring audio at {msg.sample_rate} Hz (expected {SAMPLE_RATE})')
            elif not seg.rejected and len(msg.samples):
                samples = np.asarray(msg.samples, dtype=np.int16)
                seg.samples += samples.size
                seg.stream.accept(samples)  # Vosk decodes while the visitor speaks
            if not msg.segment_end:
                return
            del self._segments[msg.segment_id]
            if seg.rejected or seg.samples < self.p.min_segment_s * SAMPLE_RATE:
                return
            if self._speaking or (seg.overlapped and not seg.barge_in):
                deadline = self.get_clock().now() + Duration(nanoseconds=int(self.p.barge_in_grace_s * 1e9))
                self._expire_held()
                self._held.append((seg, deadline))
                return
        self._jobs.put(seg)

    def _warm_up(self) -> None:
        """Warm every engine up once; queued segments wait for it, it only makes the first one faster.

        A failing warm-up must not kill the worker: it is logged once and reported as DEGRADED health
        (the engine stays routed; if its decoding fails too, each failed segment is logged)."""
        engines = self.router.engine_by_language if self.router else {}
        for engine in {id(e): e for e in engines.values()}.values():
            warm_up = getattr(engine, 'warm_up', None)
            if not callable(warm_up):
                continue
            try:
                warm_up()
            except Exception as exc:  # noqa: BLE001 - an engine failure must not kill the node
                langs = ', '.join(lang for lang, e in engines.items() if e is engine)
                problem = f'{engine.name} warm-up failed ({exc}); recognition for {langs} may not work'
                self.get_logger().error(problem)
                message = self.health.message if self.health.level != HealthLevel.OK else ''
                self.health.set(HealthLevel.DEGRADED, f'{message}; {problem}' if message else problem,
                                engines=', '.join(f'{lang}={e.name}' for lang, e in engines.items()))

    def _work(self) -> None:
        self._warm_up()
        while True:
            seg = self._jobs.get()
            if seg is None:
                return
            try:
                result = seg.stream.finish()
            except Exception as exc:  # noqa: BLE001 - a decoder failure must not kill the node
                self.get_logger().error(f'recognition failed: {exc}')
                continue
            if result is None:
                continue
            start = RosTime.from_msg(seg.stamp)
            msg = RecognizedSpeech(text=result.text, language=result.language, confidence=result.confidence,
                                   source=result.engine)
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.speech_start = (start + Duration(nanoseconds=int(result.start_s * 1e9))).to_msg()
            msg.speech_end = (start + Duration(nanoseconds=int(result.end_s * 1e9))).to_msg()
            if self._closing.is_set():
                return  # a decode that outlived close(): the node is being destroyed, nobody to tell
            self.pub.publish(msg)
            self.get_logger().debug(f'recognized {len(result.text)} chars, {result.language}, '
                                    f'conf {result.confidence:.2f} ({result.engine})')

    def close(self) -> None:
        self._closing.set()
        self._jobs.put(None)
        self._worker.join(timeout=5.0)
        if self.router is not None:
            self.router.close()


def main(args=None):
    return run_node(AsrNode, args)

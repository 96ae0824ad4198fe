"""Audio input: microphone (sounddevice), a WAV file, or /audio/raw in simulation -> VAD -> /audio/chunks.

Each segment goes out as it happens: a first chunk with ``segment_start`` (~100 ms after the visitor
starts, which is what barge-in reacts to), chunks while they speak, and an end chunk with ``segment_end``.
Nothing is stored. Without an audio device the node reports DEGRADED and keeps running.
"""
from __future__ import annotations

from dataclasses import dataclass
import queue
import threading

from l2b2_interfaces.msg import AudioChunk
import numpy as np
from rclpy.time import Duration

from l2b2_common.codes import HealthLevel
from l2b2_common.health import HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import AUDIO
from l2b2_common.tunables import declare_tunables, tunable
from l2b2_speech.audio import ASR_RATE, read_wav, resample
from l2b2_speech.vad import VadConfig, VadSegmenter


@dataclass(frozen=True)
class AudioInputParams:
    source: str = tunable('topic', 'Where audio comes from: a microphone, a WAV file, or /audio/raw (simulation).',
                          choices=('microphone', 'wav', 'topic'))
    wav_path: str = tunable('', 'WAV file to play in as if spoken (source "wav"); any PCM or float WAV, any rate.')
    wav_loop: bool = tunable(False, 'Repeat the WAV file forever (demo).')
    device: str = tunable('', 'sounddevice input device name or index; empty = system default.')
    block_ms: int = tunable(20, 'Microphone/WAV block length.', min=10, max=200)
    vad_aggressiveness: int = tunable(2, 'webrtcvad: 0 lenient .. 3 strict about what is speech.', min=0, max=3)
    vad_start_frames: int = tunable(4, 'Voiced 20 ms frames (of the last 6) that start a segment.', min=1, max=6)
    end_silence_ms: int = tunable(400, 'Silence that ends a segment (the end-of-speech hang-over).', min=60,
                                  max=2000)
    pre_roll_ms: int = tunable(200, 'Audio kept from before speech starts.', min=0, max=1000)
    max_segment_s: float = tunable(15.0, 'A segment longer than this is cut.', min=1.0, max=60.0)
    energy_floor_dbfs: float = tunable(-50.0, 'Frames quieter than this are silence.', min=-90.0, max=-10.0)


class AudioInputNode(LeanNode):
    def __init__(self, **kwargs):
        super().__init__('audio_input', **kwargs)
        self.p = declare_tunables(self, AudioInputParams)
        self.health = HealthReporter(self, 'audio_input')
        self.segmenter = VadSegmenter(VadConfig(
            sample_rate=ASR_RATE, frame_ms=20, aggressiveness=self.p.vad_aggressiveness,
            start_frames=self.p.vad_start_frames, start_window=6, end_silence_ms=self.p.end_silence_ms,
            pre_roll_ms=self.p.pre_roll_ms, max_segment_s=self.p.max_segment_s,
            energy_floor_dbfs=self.p.energy_floor_dbfs))
        self.pub = self.create_publisher(AudioChunk, '/audio/chunks', AUDIO)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream = None
        self._fed_at = None  # node time when the last block arrived
        self._samples_in = 0
        self._bad_rate_warned = False
        if self.p.source == 'topic':
            self.create_subscription(AudioChunk, '/audio/raw', self._on_raw, AUDIO)
            self.health.set(HealthLevel.OK, 'listening on /audio/raw')
        elif self.p.source == 'wav':
            self._start_wav()
        else:
            self._start_microphone()

    # --- sources ------------------------------------------------------------------------------------
    def _on_raw(self, msg: AudioChunk) -> None:
        if not 8000 <= msg.sample_rate <= 96000:
            if not self._bad_rate_warned:
                self._bad_rate_warned = True
                self.get_logger().warning(f'dropping /audio/raw chunks with sample rate {msg.sample_rate} Hz')
            return
        self.feed(resample(np.asarray(msg.samples, dtype=np.int16), msg.sample_rate))

    def _start_wav(self) -> None:
        try:
            samples, rate = read_wav(self.p.wav_path)
        except (OSError, ValueError, EOFError) as exc:
            self.health.set(HealthLevel.ERROR, f'cannot read WAV {self.p.wav_path!r}: {exc}')
            return
        audio = resample(samples, rate)
        self.health.set(HealthLevel.OK, f'playing WAV {self.p.wav_path}')
        self._thread = threading.Thread(target=self._wav_loop, args=(audio,), daemon=True, name='wav-input')
        self._thread.start()

    def _wav_loop(self, audio: np.ndarray) -> None:
        block = ASR_RATE * self.p.block_ms // 1000
        while not self._stop.is_set():
            for i in range(0, audio.size, block):
                if self._stop.wait(self.p.block_ms / 1000.0):  # paced like a microphone
                    return
                self.feed(audio[i:i + block])
            self.feed(np.zeros(ASR_RATE // 2, dtype=np.int16))
            with self._lock:
                self._publish(self.segmenter.flush())
            if not self.p.wav_loop:
                self.health.set(HealthLevel.OK, 'WAV finished')
                return

    def _start_microphone(self) -> None:
        try:
            import sounddevice
        except (ImportError, OSError) as exc:  # OSError: PortAudio library missing
            self.health.set(HealthLevel.DEGRADED, f'no audio input (sounddevice unavailable: {exc}); touch screen only')
            return
        device = self.p.device or None
        if isinstance(device, str) and device.isdigit():
            device = int(device)
        blocks: queue.Queue = queue.Queue(maxsize=200)

        def callback(indata, frames, time_info, status):  # audio thread: hand over, never block
            try:
                blocks.put_nowait(indata[:, 0].copy())
            except queue.Full:
                pass

        try:
            self._stream = sounddevice.InputStream(samplerate=ASR_RATE, channels=1, dtype='int16', device=device,
                                                   blocksize=ASR_RATE * self.p.block_ms // 1000, callback=callback)
            self._stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudio raises several types when there is no device
            self._stream = None
            self.health.set(HealthLevel.DEGRADED, f'no microphone ({exc}); touch screen only')
            return
        self.health.set(HealthLevel.OK, f'microphone {device or "default"} open')

        def pump():
            while not self._stop.is_set():
                try:
                    self.feed(blocks.get(timeout=0.2))
                except queue.Empty:
                    continue
        self._thread = threading.Thread(target=pump, daemon=True, name='mic-input')
        self._thread.start()

    # --- VAD and publishing -------------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        """Segment 16 kHz samples and publish the chunks (thread-safe)."""
        with self._lock:
            self._fed_at = self.get_clock().now()
            self._samples_in += samples.size
            self._publish(self.segmenter.feed(samples))

    def _publish(self, chunks) -> None:
        for c in chunks:
            msg = AudioChunk(sample_rate=ASR_RATE, samples=c.samples.astype(np.int16).tolist(),
                             segment_id=c.segment_id, segment_start=c.start, segment_end=c.end)
            # Stamp: when the chunk's first sample was heard (node clock; sim time in simulation).
            msg.header.stamp = self._sample_time(c.offset).to_msg()
            msg.header.frame_id = 'microphone'
            self.pub.publish(msg)

    def _sample_time(self, offset: int):
        """When sample ``offset`` was heard: the last feed ended now, earlier samples count back from it."""
        fed_at = self._fed_at or self.get_clock().now()
        return fed_at - Duration(nanoseconds=max(0, self._samples_in - offset) * 1_000_000_000 // ASR_RATE)

    def close(self) -> None:
        self._stop.set()
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


def main(args=None):
    return run_node(AudioInputNode, args)

"""Voice-activity segmentation (webrtcvad): cuts a 16 kHz stream into visitor utterances.

Streaming on purpose: the first chunk of a segment goes out as soon as speech starts (~100 ms), so the
TTS can stop for barge-in and Vosk can decode while the visitor is still speaking.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import webrtcvad


@dataclass(frozen=True)
class VadConfig:
    sample_rate: int = 16000
    frame_ms: int = 20
    #: 0 (lenient) .. 3 (strict about what counts as speech).
    aggressiveness: int = 2
    #: Speech starts when this many of the last ``start_window`` frames are voiced.
    start_frames: int = 4
    start_window: int = 6
    #: Speech ends after this much silence (the hang-over; also the floor of end-of-speech latency).
    end_silence_ms: int = 400
    #: Audio kept from before the trigger so the first syllable is not cut.
    pre_roll_ms: int = 200
    max_segment_s: float = 15.0
    #: Frames quieter than this (dBFS) count as silence whatever webrtcvad says.
    energy_floor_dbfs: float = -50.0

    def __post_init__(self) -> None:
        if self.sample_rate not in (8000, 16000, 32000, 48000):
            raise ValueError(f'webrtcvad needs 8/16/32/48 kHz, got {self.sample_rate}')
        if self.frame_ms not in (10, 20, 30):
            raise ValueError(f'frame_ms must be 10, 20 or 30, got {self.frame_ms}')
        if not 0 <= self.aggressiveness <= 3:
            raise ValueError(f'aggressiveness must be 0..3, got {self.aggressiveness}')
        if not 1 <= self.start_frames <= self.start_window:
            raise ValueError('start_frames must be between 1 and start_window')


@dataclass
class VadChunk:
    """A piece of one segment. ``offset`` is the sample index (in the whole stream) of its first sample."""

    segment_id: int
    samples: np.ndarray
    offset: int
    start: bool = False
    end: bool = False


class VadSegmenter:
    """Feed int16 audio of any length; get back the chunks of speech segments, in order."""

    def __init__(self, config: VadConfig | None = None, first_segment_id: int = 1):
        self.config = c = config or VadConfig()
        self._vad = webrtcvad.Vad(c.aggressiveness)
        self._frame = c.sample_rate * c.frame_ms // 1000
        self._pending = np.zeros(0, dtype=np.int16)
        self._consumed = 0  # samples framed so far
        self._history: deque[tuple[np.ndarray, bool]] = deque(maxlen=max(c.start_window, c.pre_roll_ms // c.frame_ms))
        self._in_speech = False
        self._silent_frames = 0
        self._voiced_frames = 0
        self._segment_frames = 0
        self._next_id = first_segment_id
        self.segment_id = 0
        self._floor = 32768.0 * 10 ** (c.energy_floor_dbfs / 20.0)

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def feed(self, samples: np.ndarray) -> list[VadChunk]:
        c = self.config
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16)])
        n = data.size // self._frame
        self._pending = data[n * self._frame:]
        out: list[VadChunk] = []
        current: list[np.ndarray] = []
        current_offset = 0
        for i in range(n):
            frame = data[i * self._frame:(i + 1) * self._frame]
            offset = self._consumed
            self._consumed += self._frame
            voiced = self._is_voiced(frame)
            self._history.append((frame, voiced))  # also during speech: the next pre-roll may reach back
            if not self._in_speech:
                recent = list(self._history)[-c.start_window:]
                if sum(v for _, v in recent) >= c.start_frames:
                    pre = [f for f, _ in self._history]
                    pre = pre[-max(1, c.pre_roll_ms // c.frame_ms):]
                    self._start_segment()
                    self._voiced_frames = sum(v for _, v in recent)
                    self._segment_frames = len(pre)
                    start_offset = self._consumed - len(pre) * self._frame
                    out.append(VadChunk(self.segment_id, np.concatenate(pre), start_offset, start=True))
                continue
            if not current:
                current_offset = offset
            current.append(frame)
            self._segment_frames += 1
            self._voiced_frames += voiced
            self._silent_frames = 0 if voiced else self._silent_frames + 1
            ended = self._silent_frames * c.frame_ms >= c.end_silence_ms
            too_long = self._segment_frames * c.frame_ms >= c.max_segment_s * 1000
            if ended or too_long:
                out.append(self._end_chunk(np.concatenate(current), current_offset))
                current = []
        if current:
            out.append(VadChunk(self.segment_id, np.concatenate(current), current_offset))
        return out

    def flush(self) -> list[VadChunk]:
        """End an open segment (end of file / stream)."""
        if not self._in_speech:
            return []
        return [self._end_chunk(np.zeros(0, dtype=np.int16), self._consumed)]

    def _start_segment(self) -> None:
        self._in_speech = True
        self.segment_id = self._next_id
        self._next_id += 1
        self._silent_frames = 0

    def _end_chunk(self, samples: np.ndarray, offset: int) -> VadChunk:
        self._in_speech = False
        self._voiced_frames = self._segment_frames = self._silent_frames = 0
        return VadChunk(self.segment_id, samples, offset, end=True)

    def _is_voiced(self, frame: np.ndarray) -> bool:
        rms = float(np.sqrt(np.mean(frame.astype(np.float32) ** 2)))
        if rms < self._floor:
            return False
        return self._vad.is_speech(frame.tobytes(), self.config.sample_rate)

"""Where the robot's voice goes: the speaker, a WAV folder, a callback (the sim's /audio/tts_out) or nowhere.

Every sink plays in real time in small blocks and stops within one block when ``cancel`` is set,
which is what makes barge-in and /speech/stop immediate.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
import threading
import time
import wave

import numpy as np


class AudioSink:
    """Base: paces blocks in real time (monotonic clock: this emulates a loudspeaker, not node timing)."""

    def __init__(self, block_ms: int = 20, realtime: bool = True):
        self.block_ms, self.realtime = block_ms, realtime

    def open(self, sample_rate: int, utterance_id: str) -> None:
        self.rate = sample_rate
        self._t0 = time.monotonic()
        self._written = 0

    def play(self, samples: np.ndarray, cancel: threading.Event) -> bool:
        """Play ``samples``; False when cancelled part-way."""
        block = max(1, self.rate * self.block_ms // 1000)
        for i in range(0, samples.size, block):
            if cancel.is_set():
                return False
            piece = samples[i:i + block]
            self.write(piece)
            self._written += piece.size
            if self.realtime and cancel.wait(max(0.0, self._t0 + self._written / self.rate - time.monotonic()
                                                  - self.lead_s)):
                return False
        return not cancel.is_set()

    #: How far ahead of real time a sink may write (its own buffer).
    lead_s = 0.0

    def write(self, samples: np.ndarray) -> None:
        pass

    def close(self, interrupted: bool) -> None:
        pass

    def drain(self, cancel: threading.Event) -> bool:
        """Wait until what was written has been heard; False when cancelled."""
        if not self.realtime:
            return not cancel.is_set()
        remaining = self._t0 + self._written / self.rate - time.monotonic()
        return not cancel.wait(max(0.0, remaining))


class NullSink(AudioSink):
    """Speaks into the void (timing kept): for tests of the speech state without audio."""


class CallbackSink(AudioSink):
    """Hands each block to ``publish(samples, rate, first)``; the node publishes /audio/tts_out."""

    def __init__(self, publish: Callable[[np.ndarray, int, bool], None], block_ms: int = 20, realtime: bool = True):
        super().__init__(block_ms, realtime)
        self._publish = publish

    def open(self, sample_rate: int, utterance_id: str) -> None:
        super().open(sample_rate, utterance_id)
        self._first = True

    def write(self, samples: np.ndarray) -> None:
        self._publish(samples, self.rate, self._first)
        self._first = False


class WavDirSink(AudioSink):
    """One WAV file per utterance, only where a deployer explicitly configured a folder."""

    def __init__(self, folder: str | Path, block_ms: int = 20, realtime: bool = True):
        super().__init__(block_ms, realtime)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._wav = None

    def open(self, sample_rate: int, utterance_id: str) -> None:
        super().open(sample_rate, utterance_id)
        stamp = datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')
        safe = ''.join(ch for ch in utterance_id if ch.isalnum() or ch in '-_')[:40] or 'utterance'
        self._wav = wave.open(str(self.folder / f'{stamp}_{safe}.wav'), 'wb')
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)

    def write(self, samples: np.ndarray) -> None:
        self._wav.writeframes(samples.astype(np.int16).tobytes())

    def close(self, interrupted: bool) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None


class SpeakerSink(AudioSink):
    """sounddevice output; on cancel the stream is aborted, which drops its buffer at once."""

    lead_s = 0.06

    def __init__(self, device: str | int | None = None, block_ms: int = 20):
        super().__init__(block_ms, realtime=True)
        import sounddevice  # ImportError/OSError: the caller reports no speaker
        self._sd = sounddevice
        self._sd.query_devices(device, 'output')  # raises when there is no output device
        self.device = device
        self._stream = None

    def open(self, sample_rate: int, utterance_id: str) -> None:
        super().open(sample_rate, utterance_id)
        self._stream = self._sd.OutputStream(samplerate=sample_rate, channels=1, dtype='int16', device=self.device)
        self._stream.start()

    def write(self, samples: np.ndarray) -> None:
        self._stream.write(np.ascontiguousarray(samples.reshape(-1, 1)))

    def close(self, interrupted: bool) -> None:
        if self._stream is not None:
            (self._stream.abort if interrupted else self._stream.stop)()
            self._stream.close()
            self._stream = None

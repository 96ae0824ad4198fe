"""Small audio helpers shared by the engines, nodes, tests and scenarios: WAV in/out, resampling,
and espeak-ng synthesis of visitor speech for simulation (the lead's scenarios publish it on /audio/raw)."""
from __future__ import annotations

import io
from pathlib import Path
import shutil
import subprocess
import wave

import numpy as np

ASR_RATE = 16000


def resample(samples: np.ndarray, rate: int, target: int = ASR_RATE) -> np.ndarray:
    """Linear-interpolation resampling of int16 mono audio (good enough for speech into ASR)."""
    samples = np.asarray(samples, dtype=np.int16)
    if rate == target or samples.size == 0:
        return samples
    n = int(round(samples.size * target / rate))
    x = np.interp(np.linspace(0, samples.size - 1, n), np.arange(samples.size), samples.astype(np.float32))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the sample rate; stereo is mixed down. Raises ValueError if not PCM16."""
    with wave.open(str(path), 'rb') as w:
        if w.getsampwidth() != 2:
            raise ValueError(f'{path}: only 16-bit PCM WAV is supported, got {8 * w.getsampwidth()}-bit')
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        channels, rate = w.getnchannels(), w.getframerate()
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return data, rate


def wav_bytes_to_samples(blob: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(blob), 'rb') as w:
        rate = w.getframerate()
        # espeak-ng --stdout leaves the frame count unset (streaming): read everything that follows.
        data = w.readframes(2**31 - 1)
    return np.frombuffer(data, dtype=np.int16).copy(), rate


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype=np.int16).tobytes())


def espeak_available() -> bool:
    return shutil.which('espeak-ng') is not None


def espeak_synthesize(text: str, voice: str, rate_wpm: int = 150, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with the espeak-ng command (UTF-8 on stdin); int16 samples and their rate."""
    exe = shutil.which('espeak-ng')
    if exe is None:
        raise FileNotFoundError('espeak-ng is not installed (Debian package espeak-ng)')
    proc = subprocess.run([exe, '-v', voice, '-s', str(rate_wpm), '-p', str(pitch), '-b', '1', '--stdout'],
                          input=text.encode('utf-8'), capture_output=True, timeout=60, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f'espeak-ng failed for voice {voice!r}: {proc.stderr.decode(errors="replace").strip()}')
    return wav_bytes_to_samples(proc.stdout)


def visitor_speech(text: str, language: str, rate_wpm: int = 140) -> np.ndarray:
    """A visitor saying ``text`` in ``language`` as 16 kHz int16, for /audio/raw in tests and scenarios."""
    samples, rate = espeak_synthesize(text, {'de': 'de', 'tr': 'tr', 'en': 'en-us'}.get(language, language), rate_wpm)
    return resample(samples, rate, ASR_RATE)


def silence(seconds: float, rate: int = ASR_RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def noise(seconds: float, level: float = 0.3, seed: int = 7, rate: int = ASR_RATE) -> np.ndarray:
    """White noise at ``level`` of full scale (values above 1 clip): garbage input for tests and benchmarks."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, level * 32767, int(seconds * rate)), -32768, 32767).astype(np.int16)

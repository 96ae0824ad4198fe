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


class WavError(ValueError):
    """A file that is not a WAV this project can read; the message names the file and the reason."""


_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the sample rate of any PCM (8/16/24/32-bit) or float (32/64-bit) WAV.

    Channels are mixed down. The RIFF chunks are read directly (Python's ``wave`` knows neither float
    nor WAVE_FORMAT_EXTENSIBLE files, which many recorders write). Raises :class:`WavError`.
    """
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise WavError(f'{path}: cannot read: {exc.strerror or exc}') from None
    return parse_wav(blob, str(path))


def parse_wav(blob: bytes, name: str = 'WAV') -> tuple[np.ndarray, int]:
    if len(blob) < 12 or blob[:4] != b'RIFF' or blob[8:12] != b'WAVE':
        raise WavError(f'{name}: not a WAV file (no RIFF/WAVE header)')
    fmt, data, pos = None, None, 12
    while pos + 8 <= len(blob):
        cid, size = blob[pos:pos + 4], int.from_bytes(blob[pos + 4:pos + 8], 'little')
        body = blob[pos + 8:pos + 8 + size]
        if cid == b'fmt ':
            fmt = body
        elif cid == b'data':
            data = body  # a streamed WAV (size unset or too large) runs to the end of the file
        pos += 8 + size + (size & 1)
    if fmt is None or len(fmt) < 16:
        raise WavError(f'{name}: no format chunk')
    if data is None:
        raise WavError(f'{name}: no audio data chunk')
    tag, channels, rate = (int.from_bytes(fmt[0:2], 'little'), int.from_bytes(fmt[2:4], 'little'),
                           int.from_bytes(fmt[4:8], 'little'))
    bits = int.from_bytes(fmt[14:16], 'little')
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = int.from_bytes(fmt[24:26], 'little')  # first two bytes of the sub-format GUID
    if channels < 1 or not 1000 <= rate <= 384000:
        raise WavError(f'{name}: implausible format ({channels} channels, {rate} Hz)')
    width = bits // 8
    if width < 1 or bits % 8:
        raise WavError(f'{name}: unsupported sample size {bits} bits')
    data = data[:len(data) - len(data) % (width * channels)]
    if tag == _PCM and width == 1:
        x = (np.frombuffer(data, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif tag == _PCM and width in (2, 4):
        x = np.frombuffer(data, f'<i{width}').astype(np.float64) / float(2 ** (bits - 1))
    elif tag == _PCM and width == 3:
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / float(1 << 23)
    elif tag == _FLOAT and width in (4, 8):
        x = np.nan_to_num(np.frombuffer(data, f'<f{width}').astype(np.float64))
    else:
        raise WavError(f'{name}: unsupported encoding (format tag {tag}, {bits} bits); '
                       'PCM 8/16/24/32-bit or float 32/64-bit expected')
    if x.size == 0:
        raise WavError(f'{name}: no samples')
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16), rate


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

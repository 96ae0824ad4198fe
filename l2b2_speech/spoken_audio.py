"""Test audio for the spoken benchmark: espeak-ng voice variants, pink noise, babble, mixing at an SNR,
and word error rate. Pure numpy; nothing is stored.

The variants, rates and pitches are ones the tests never use (they speak with the default voice at
130-140 words per minute, pitch 50), so the benchmark measures voices the code was not tuned on.
"""
from __future__ import annotations

from dataclasses import dataclass
import re

import numpy as np

from l2b2_speech.audio import ASR_RATE, espeak_synthesize, resample

VARIANTS = ('m3', 'f2', 'klatt', 'm7', 'f4', 'adam')
RATES = (120, 150, 180)
PITCHES = (35, 50, 70)
ESPEAK_VOICE = {'de': 'de', 'tr': 'tr', 'en': 'en-us'}


@dataclass(frozen=True)
class Voice:
    variant: str
    rate_wpm: int
    pitch: int

    def __str__(self) -> str:
        return f'{self.variant}/{self.rate_wpm}wpm/p{self.pitch}'


def voice_for(index: int) -> Voice:
    """A deterministic spread of variant x rate x pitch over the sentences."""
    return Voice(VARIANTS[index % len(VARIANTS)], RATES[(index // 2) % len(RATES)], PITCHES[(index // 3) % len(PITCHES)])


def speak(text: str, language: str, voice: Voice) -> np.ndarray:
    samples, rate = espeak_synthesize(text, f'{ESPEAK_VOICE.get(language, language)}+{voice.variant}',
                                      voice.rate_wpm, voice.pitch)
    return resample(samples, rate, ASR_RATE)


def voiced_span(speech: np.ndarray, floor_dbfs: float = -40.0) -> tuple[int, int]:
    """First and one-past-last sample of the 20 ms frames louder than ``floor_dbfs`` (espeak pads with silence)."""
    frame = ASR_RATE // 50
    n = speech.size // frame
    if n == 0:
        return 0, speech.size
    rms = np.sqrt(np.mean(speech[:n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    loud = np.nonzero(rms > 32768 * 10 ** (floor_dbfs / 20))[0]
    if not loud.size:
        return 0, speech.size
    return int(loud[0] * frame), int((loud[-1] + 1) * frame)


def pink_noise(n: int, seed: int) -> np.ndarray:
    """Unit-RMS 1/f noise (the spectrum of an office's hum and air)."""
    rng = np.random.default_rng(seed)
    spectrum = rng.normal(size=n // 2 + 1) + 1j * rng.normal(size=n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    return x / (np.sqrt(np.mean(x ** 2)) or 1.0)


def babble(n: int, voices: list[np.ndarray], seed: int) -> np.ndarray:
    """Unit-RMS babble: several other utterances overlapped at random offsets, looped to ``n`` samples."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for v in voices:
        v = v.astype(np.float64)
        if not v.size:
            continue
        start = int(rng.integers(0, v.size))
        reps = int(np.ceil((n + start) / v.size))
        out += np.tile(v, reps)[start:start + n] / (np.sqrt(np.mean(v ** 2)) or 1.0)
    return out / (np.sqrt(np.mean(out ** 2)) or 1.0)


def mix(speech: np.ndarray, noise_unit: np.ndarray, snr_db: float | None) -> np.ndarray:
    """``speech`` plus unit-RMS noise scaled so that voiced speech is ``snr_db`` above it (None: clean)."""
    s = speech.astype(np.float64)
    if snr_db is None:
        return speech.astype(np.int16)
    a, b = voiced_span(speech)
    power = np.mean(s[a:b] ** 2) if b > a else np.mean(s ** 2)
    scale = np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(np.round(s + scale * noise_unit[:s.size]), -32768, 32767).astype(np.int16)


def scaled(noise_unit: np.ndarray, dbfs: float) -> np.ndarray:
    return np.clip(np.round(noise_unit * 32768 * 10 ** (dbfs / 20)), -32768, 32767).astype(np.int16)


_WORD = re.compile(r"[\w']+", re.UNICODE)


def words(text: str, language: str = '') -> list[str]:
    """Lower-case words without punctuation (Turkish dotted and dotless i kept apart)."""
    if language == 'tr':
        text = text.replace('İ', 'i').replace('I', 'ı')
    return [w.casefold() for w in _WORD.findall(text)]


def word_errors(reference: str, hypothesis: str, language: str = '') -> tuple[int, int]:
    """Edit distance in words and the reference's word count (WER = sum of the first / sum of the second)."""
    ref, hyp = words(reference, language), words(hypothesis, language)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)

"""Guards against text the recognizer invented: Whisper writes fluent sentences for noise and loops.

Pure functions, no model: the Whisper engine asks them before it hands a hypothesis on. Each guard
answers why a hypothesis is rejected (a short reason, for the benchmark and the debug log) or None.
The limits are deliberately loose for real speech (a visitor at 200 words per minute passes) and
tight for the failure modes measured on noise: a long text from a short sound, the same words again
and again, text although the model itself says "no speech".
"""
from __future__ import annotations

from dataclasses import dataclass
import re
import zlib

import numpy as np


@dataclass(frozen=True)
class GuardLimits:
    """Where a hypothesis stops being believable."""

    #: Audio quieter than this (RMS, dBFS) is not decoded at all.
    min_rms_dbfs: float = -55.0
    #: Less speech (Silero VAD) than this is not decoded.
    min_speech_s: float = 0.25
    #: zlib compression ratio of the text above this means repetition (Whisper's own 2.4).
    max_compression_ratio: float = 2.4
    #: More characters per second of speech than this cannot have been said.
    max_chars_per_s: float = 30.0
    #: Text of this many characters is always allowed, whatever the speech length (a short "ja").
    min_chars_allowed: int = 12
    #: The same word n-gram repeated this many times in a row is a decoding loop.
    max_repeats: int = 3
    #: Whisper's own probability that the window holds no speech.
    max_no_speech_prob: float = 0.6
    #: Mean token log-probability below this is a guess.
    min_avg_logprob: float = -1.5


def rms_dbfs(samples: np.ndarray) -> float:
    """Loudness of int16 (or float in -1..1) audio in dB relative to full scale."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return -120.0
    if np.issubdtype(np.asarray(samples).dtype, np.integer):
        x = x / 32768.0
    rms = float(np.sqrt(np.mean(x * x)))
    return 20.0 * np.log10(max(rms, 1e-6))


def compression_ratio(text: str) -> float:
    data = text.encode('utf-8')
    return len(data) / max(1, len(zlib.compress(data))) if data else 0.0


def longest_repeat(text: str, max_n: int = 4) -> int:
    """The most times one word n-gram (n <= ``max_n``) follows itself directly ("bitte bitte bitte" -> 3)."""
    words = [w.strip('.,!?;:').lower() for w in text.split()]
    best = 1 if words else 0
    for n in range(1, max_n + 1):
        for start in range(n):
            run, prev = 1, None
            for i in range(start, len(words) - n + 1, n):
                gram = tuple(words[i:i + n])
                run = run + 1 if gram == prev else 1
                best = max(best, run)
                prev = gram
    return best


def cut_loop(text: str) -> str:
    """Drop what a decoding loop added: the text's tail said again, and stuttered words.

    * The end of the text repeating the text just before it ("A B C A B C A B" -> "A B C"; the token
      budget usually cuts the loop mid-word) is removed, from three words on, or two long ones.
    * A word three or more times in a row is kept twice ("ich ich ich möchte" -> "ich ich möchte");
      "ja ja" is speech.
    Words are compared without case and punctuation.
    """
    raw = text.split()
    norm = [w.strip('.,!?;:-\'"').lower() for w in raw]
    out_raw, out_norm = [], []
    for w, n in zip(raw, norm, strict=True):  # stutters
        if len(out_norm) >= 2 and out_norm[-1] == out_norm[-2] == n:
            continue
        out_raw.append(w)
        out_norm.append(n)
    if len(out_norm) >= 3 and out_norm[-1] == out_norm[-2] == out_norm[-3]:
        out_raw, out_norm = out_raw[:-2], out_norm[:-2]
    raw, norm = out_raw, out_norm
    for j in range(1, len(norm)):  # the longest tail first
        tail = norm[j:]
        if not all(tail) or len(tail) < 2 or (len(tail) == 2 and sum(map(len, tail)) < 12):
            continue
        if any(_same(tail, norm[j - k:j - k + len(tail)]) for k in range(1, j + 1)):
            raw, norm = raw[:j], norm[:j]
            break
    return ' '.join(raw).rstrip(',;:-') if raw else ''


def _same(tail: list[str], earlier: list[str]) -> bool:
    """``tail`` says ``earlier`` again; its last word may be cut short (the token budget ran out)."""
    if len(earlier) != len(tail) or tail[:-1] != earlier[:-1]:
        return False
    return tail[-1] == earlier[-1] or (len(tail[-1]) >= 3 and earlier[-1].startswith(tail[-1]))


def reject_reason(text: str, *, speech_s: float, avg_logprob: float, no_speech_prob: float,
                  limits: GuardLimits = GuardLimits()) -> str | None:
    """Why ``text`` (decoded from ``speech_s`` seconds of speech) is not believable, or None."""
    text = text.strip()
    if not text:
        return 'empty'
    if no_speech_prob > limits.max_no_speech_prob:
        return f'no-speech probability {no_speech_prob:.2f}'
    if avg_logprob < limits.min_avg_logprob:
        return f'log-probability {avg_logprob:.2f}'
    if len(text) > max(limits.min_chars_allowed, limits.max_chars_per_s * speech_s):
        return f'{len(text)} characters from {speech_s:.1f} s of speech'
    if len(text) >= 24 and compression_ratio(text) > limits.max_compression_ratio:
        return f'compression ratio {compression_ratio(text):.1f}'
    if longest_repeat(text) >= limits.max_repeats:
        return 'repetition'
    return None


_WORD = re.compile(r"[\w']+", re.UNICODE)


def implausible_reason(text: str, *, speech_s: float, prompt: str = '', min_chars_per_s: float = 5.0,
                       prompt_share: float = 0.75) -> str | None:
    """Why a hypothesis that passed the guards is still an unlikely reading of the speech, or None.

    Not a rejection (a visitor may say one short word slowly): a penalty when two languages' readings of
    one segment compete. Measured on espeak speech decoded in the wrong language (docs/speech.md): the
    decoder then writes a few words for seconds of speech ("Ja ne ne" for 5 s, "Bu, bu" for 2 s), or copies
    the initial prompt ("Ja bitte. Nein danke.", "Im Bürgerbüro, Pass, Anmeldung ...").
    """
    text = text.strip()
    if speech_s > 0 and len(text) < min_chars_per_s * speech_s:
        return f'{len(text)} characters for {speech_s:.1f} s of speech'
    found = [w.casefold() for w in _WORD.findall(text)]
    known = {w.casefold() for w in _WORD.findall(prompt)}
    if known and len(found) >= 3 and sum(w in known for w in found) >= prompt_share * len(found):
        return 'copies the prompt'
    return None


def max_new_tokens(speech_s: float) -> int:
    """A generous cap on tokens for ``speech_s`` of speech (people say at most ~4 words a second; a
    German or Turkish word is 2-3 Whisper tokens): a loop cannot run on for the whole 448-token window."""
    return int(12 + 10 * speech_s)

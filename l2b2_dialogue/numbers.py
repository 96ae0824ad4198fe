"""Spoken and written numbers: booking numbers ("vier sieben eins eins", "kırk yedi on bir" → 4711).

A booking number is read as the digits of consecutive number words and digit groups, so it does
not matter whether the visitor says it digit by digit, in pairs or in one go. Clock times are
:mod:`l2b2_dialogue.times`.
"""
from __future__ import annotations

import re

from l2b2_dialogue.normalize import Utterance, as_utterance, fold

_UNITS_DE = {'null': 0, 'eins': 1, 'ein': 1, 'eine': 1, 'zwei': 2, 'zwo': 2, 'drei': 3, 'vier': 4, 'funf': 5,
             'sechs': 6, 'sieben': 7, 'acht': 8, 'neun': 9}
_TEENS_DE = {'zehn': 10, 'elf': 11, 'zwolf': 12, 'dreizehn': 13, 'vierzehn': 14, 'funfzehn': 15,
             'sechzehn': 16, 'siebzehn': 17, 'achtzehn': 18, 'neunzehn': 19}
_TENS_DE = {'zwanzig': 20, 'dreissig': 30, 'vierzig': 40, 'funfzig': 50, 'sechzig': 60, 'siebzig': 70,
            'achtzig': 80, 'neunzig': 90}
_UNITS_TR = {'sifir': 0, 'bir': 1, 'iki': 2, 'uc': 3, 'dort': 4, 'bes': 5, 'alti': 6, 'yedi': 7, 'sekiz': 8,
             'dokuz': 9}
_TENS_TR = {'on': 10, 'yirmi': 20, 'otuz': 30, 'kirk': 40, 'elli': 50, 'altmis': 60, 'yetmis': 70,
            'seksen': 80, 'doksan': 90}
_HUNDRED = {'hundert': 100, 'yuz': 100}
_TOKEN_DE = re.compile(r'^(?:(' + '|'.join(_UNITS_DE) + r')und)?(' + '|'.join(_TENS_DE) + r')$')
#: Words that are articles more often than digits: "ein"/"eine"/"bir" only count next to other numbers.
_WEAK = {'ein', 'eine', 'bir', 'on'}


def word_value(word: str) -> int | None:
    """The value of one number word (any spelling) or digit group, else None."""
    return _value(fold(word))


def _value(w: str) -> int | None:
    """The value of one folded number word or digit group, else None."""
    if w.isdigit():
        return int(w)
    for table in (_UNITS_DE, _TEENS_DE, _TENS_DE, _UNITS_TR, _TENS_TR, _HUNDRED):
        if w in table:
            return table[w]
    m = _TOKEN_DE.match(w)
    if m:
        return (_UNITS_DE[m.group(1)] if m.group(1) else 0) + _TENS_DE[m.group(2)]
    return None


def _groups(folded: list[str]) -> list[list[tuple[str, int]]]:
    groups, current = [], []
    for w in folded:
        v = _value(w)
        if v is None:
            if current:
                groups.append(current)
            current = []
        else:
            current.append((w, v))
    if current:
        groups.append(current)
    return groups


def _merge_turkish_tens(group: list[tuple[str, int]]) -> list[int]:
    """"kırk yedi" → 47, "on bir" → 11: a tens word followed by a unit word is one number."""
    out: list[int] = []
    i = 0
    while i < len(group):
        word, value = group[i]
        nxt = group[i + 1] if i + 1 < len(group) else None
        if word in _TENS_TR and nxt and nxt[0] in _UNITS_TR and 0 < nxt[1] < 10:
            out.append(value + nxt[1])
            i += 2
            continue
        out.append(value)
        i += 1
    return out


def booking_number(text: str | Utterance, min_digits: int = 4, max_digits: int = 12) -> str | None:
    """The longest run of spoken/written digits with at least ``min_digits`` digits, as a digit string."""
    best = None
    for group in _groups(as_utterance(text).folded()):
        if len(group) == 1 and group[0][0] in _WEAK:
            continue
        # A lone article at either end ("ein 4711") is not part of the number.
        while group and group[0][0] in _WEAK and len(group) > 1 and group[1][1] >= 10 and group[0][0] != 'on':
            group = group[1:]
        digits = ''.join(str(v) for v in _merge_turkish_tens(group))
        if min_digits <= len(digits) <= max_digits and (best is None or len(digits) > len(best)):
            best = digits
    return best

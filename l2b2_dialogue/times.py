"""Clock times as visitors say or type them, in German and Turkish → ``HH:MM``.

German: "14:30", "14.30 Uhr", "um 14 Uhr 30", "zehn Uhr", "um zehn", "halb elf" (10:30), "viertel nach
neun" (9:15), "viertel vor zwölf" (11:45), "dreiviertel zwölf" (11:45), "viertel elf" (10:15), "zehn nach
neun" (9:10), "fünf vor halb elf" (10:25).
Turkish: "14.30", "saat 14'te", "saat on dörtte" (14:00), "saat on dört otuzda" (14:30), "on buçukta"
(10:30), "dokuzu çeyrek geçe" (9:15), "dokuzu on geçe" (9:10), "on ikiye çeyrek kala" (11:45), "ikiye beş
kala" (13:55), "ikide" (14:00).

**Afternoon rule** (both languages): the office is closed at night, so a spoken hour 1-6 means 13-18 ("saat
ikide", "um halb drei" → 14:00, 14:30), unless a morning word is said ("sabah", "morgens", "früh"), or the
hour is written with a leading zero ("02:30"). An evening word ("nachmittags", "abends", "öğleden sonra",
"akşam") moves any hour before 12 to the afternoon. Hours 7-12 and 13-24 are taken as said.

Pure Python, no ROS; bounded by the cleaned text's length (``normalize.MAX_CHARS``).
"""
from __future__ import annotations

from dataclasses import dataclass
import re

from l2b2_dialogue.normalize import Utterance, clean, fold
from l2b2_dialogue.numbers import word_value

#: A written time as one token: "14:30", "14.30", "14h30" (not a date "14.05.2026", not "3.50 €").
_TOKEN = re.compile(r'(?<![\d.:,])\d{1,2}[:.h]\d{2}(?![.:,]?\d)|\d+|[^\W\d_]+')
_WRITTEN = re.compile(r'^(\d{1,2})[:.h](\d{2})$')
_MONEY = {'euro', 'eur', 'cent', 'lira', 'tl', 'ytl', 'kurus'}
_TRIGGERS = {'um', 'gegen', 'ab', 'saat', 'saatte'}
_MORNING = {'morgens', 'fruh', 'vormittags', 'vormittag', 'sabah', 'sabahleyin', 'sabahtan'}
_EVENING = {'nachmittags', 'nachmittag', 'abends', 'abend', 'aksam', 'aksamustu'}
#: Turkish number stems (folded, "dörde"/"dördü" with the softened d) and case endings after folding.
_TR_STEMS = {'bir': 1, 'iki': 2, 'uc': 3, 'dort': 4, 'dord': 4, 'bes': 5, 'alti': 6, 'yedi': 7, 'sekiz': 8,
             'dokuz': 9, 'on': 10, 'yirmi': 20, 'otuz': 30, 'kirk': 40, 'elli': 50}
_TR_TENS = {'on', 'yirmi', 'otuz', 'kirk', 'elli'}
_TR_CASES = {'de': 'loc', 'da': 'loc', 'te': 'loc', 'ta': 'loc', 'i': 'acc', 'u': 'acc', 'yi': 'acc', 'yu': 'acc',
             'e': 'dat', 'a': 'dat', 'ye': 'dat', 'ya': 'dat'}
#: Case endings typed or transcribed apart from digits: "14'te", "9'u", "12'ye".
_SUFFIX_TOKENS = set(_TR_CASES)
#: Bare "onda" (at him) and "birde" (once more) are words of their own; as times they need "saat".
_AMBIGUOUS_LOC = {'onda', 'birde'}


@dataclass(frozen=True)
class ClockTime:
    """A time found in a text, and the text without it (for the booking number: "um 10:30" is no 1030)."""

    hour: int
    minute: int
    rest: str

    @property
    def text(self) -> str:
        return f'{self.hour:02d}:{self.minute:02d}'


@dataclass(frozen=True)
class _Tok:
    word: str
    start: int
    end: int


@dataclass(frozen=True)
class _Num:
    value: int
    case: str       # '' (none), 'loc', 'acc', 'dat' (Turkish case ending)
    end: int        # index of the next token
    padded: bool    # written with a leading zero ("02")
    words: int      # tokens used


def _tr_word(word: str) -> tuple[int, str] | None:
    """A Turkish number word with an optional case ending: "dörtte" → (4, loc), "ikiye" → (2, dat)."""
    if word in _TR_STEMS:
        return _TR_STEMS[word], ''
    for n in (1, 2):
        stem, ending = word[:-n], word[-n:]
        if stem in _TR_STEMS and ending in _TR_CASES:
            return _TR_STEMS[stem], _TR_CASES[ending]
    return None


def _number(toks: list[_Tok], i: int) -> _Num | None:
    """The number starting at token i: digits (with a split case ending), a German word, a Turkish compound."""
    if i >= len(toks):
        return None
    w = toks[i].word
    if w.isdigit():
        if len(w) > 2:
            return None
        if i + 1 < len(toks) and toks[i + 1].word in _SUFFIX_TOKENS:
            return _Num(int(w), _TR_CASES[toks[i + 1].word], i + 2, w.startswith('0'), 2)
        return _Num(int(w), '', i + 1, w.startswith('0') and len(w) == 2, 1)
    tr = _tr_word(w)
    if tr is not None:
        value, case = tr
        if w in _TR_TENS and i + 1 < len(toks):
            unit = _tr_word(toks[i + 1].word)
            if unit is not None and 0 < unit[0] < 10:
                return _Num(value + unit[0], unit[1], i + 2, False, 2)
        return _Num(value, case, i + 1, False, 1)
    value = word_value(w)
    if value is not None and not w.isdigit():
        return _Num(value, '', i + 1, False, 1)
    return None


def _hour(n: _Num | None, low: int = 0) -> bool:
    return n is not None and low <= n.value <= 24


def _before(hour: int) -> int:
    """The hour before ("halb elf" is half past ten; "halb eins" half past twelve)."""
    return hour - 1 if hour > 1 else 12


def _match(toks: list[_Tok], i: int) -> tuple[int, int, bool, int, int] | None:
    """(hour, minute, hour written with a leading zero, first token, next token) of a time at token i."""
    w = toks[i].word
    nxt = toks[i + 1].word if i + 1 < len(toks) else ''
    written = _WRITTEN.match(w)
    if written:
        end = i + 2 if nxt in _SUFFIX_TOKENS or nxt == 'uhr' else i + 1
        if end < len(toks) and toks[end - 1].word != 'uhr' and toks[end].word in _MONEY:
            return None
        return int(written.group(1)), int(written.group(2)), written.group(1).startswith('0'), i, end
    # German: halb elf, viertel nach neun, viertel vor zwölf, dreiviertel zwölf, viertel elf.
    if w == 'halb' and _hour(n := _number(toks, i + 1), 1):
        return _before(n.value), 30, False, i, n.end
    if w == 'viertel' and nxt in ('nach', 'vor') and _hour(n := _number(toks, i + 2), 1):
        return (n.value, 15, False, i, n.end) if nxt == 'nach' else (_before(n.value), 45, False, i, n.end)
    if w == 'dreiviertel' or (w == 'drei' and nxt == 'viertel'):
        first = i + 1 if w == 'dreiviertel' else i + 2
        if _hour(n := _number(toks, first), 1):
            return _before(n.value), 45, False, i, n.end
    if w == 'viertel' and _hour(n := _number(toks, i + 1), 1) and n.words == 1:
        return _before(n.value), 15, False, i, n.end
    num = _number(toks, i)
    if num is None:
        inner = _match(toks, i + 1) if w in _TRIGGERS and i + 1 < len(toks) else None
        if inner is not None:  # "um halb elf", "saat on buçukta": the full form after the trigger
            return (*inner[:3], i, inner[4])
        if w in _TRIGGERS and (n := _number(toks, i + 1)) is not None and _hour(n):
            if nxt in ('ein', 'eine') and (n.end >= len(toks) or toks[n.end].word != 'uhr'):
                return None  # "um ein paar Minuten", "um eine Nummer": an article, not one o'clock
            found = _hour_and_minutes(toks, n, trigger=True)
            return None if found is None else (*found[:3], i, found[3])
        return None
    # German: zehn nach neun, fünf vor zwölf, fünf vor halb elf.
    if 1 <= num.value <= 29 and num.end < len(toks) and toks[num.end].word in ('nach', 'vor'):
        sign = 1 if toks[num.end].word == 'nach' else -1
        after = num.end + 1
        half = after < len(toks) and toks[after].word == 'halb'
        n = _number(toks, after + 1 if half else after)
        if _hour(n, 1):
            base = (_before(n.value), 30) if half else (n.value, 0)
            total = (base[0] * 60 + base[1] + sign * num.value) % (24 * 60)
            return total // 60 or 12, total % 60, False, i, n.end
    # Turkish: on buçuk(ta), dokuzu çeyrek geçe, on ikiye çeyrek kala, dokuzu on geçe.
    after = toks[num.end].word if num.end < len(toks) else ''
    if _hour(num, 1) and after.startswith('bucu'):
        return num.value, 30, num.padded, i, num.end + 1
    if _hour(num, 1) and num.case in ('acc', 'dat', ''):
        j = num.end
        minutes: int | None = None
        if after == 'ceyrek':
            minutes, j = 15, j + 1
        elif (m := _number(toks, j)) is not None and 1 <= m.value <= 59 and m.case == '':
            minutes, j = m.value, m.end
        if minutes is not None and j < len(toks):
            word = toks[j].word
            if word in ('gece', 'gecer') and num.case != 'dat':
                return num.value, minutes, num.padded, i, j + 1
            if word.startswith('kala') and num.case != 'acc':
                total = (num.value * 60 - minutes) % (24 * 60)
                return total // 60 or 12, total % 60, False, i, j + 1
    # "14 Uhr 30", "zehn Uhr", Turkish "on dörtte", "ikide", "on dört otuzda".
    if _hour(num) and (after == 'uhr' or num.case == 'loc' or (num.case == '' and _loc_minutes(toks, num.end))):
        if num.words == 1 and w in _AMBIGUOUS_LOC:
            return None
        found = _hour_and_minutes(toks, num, trigger=False)
        return None if found is None else (*found[:3], i, found[3])
    return None


def _loc_minutes(toks: list[_Tok], j: int) -> bool:
    m = _number(toks, j)
    return m is not None and m.case == 'loc' and 0 <= m.value <= 59


def _hour_and_minutes(toks: list[_Tok], n: _Num, *, trigger: bool) -> tuple[int, int, bool, int] | None:
    """After a trigger ("um", "saat") or at an hour: hour [Uhr] [minutes] → (hour, minute, padded, next token)."""
    j = n.end
    if j < len(toks) and toks[j].word == 'uhr':
        j += 1
    minute = 0
    if n.case != 'loc' and (m := _number(toks, j)) is not None and 0 <= m.value <= 59 and m.case in ('', 'loc'):
        if trigger and m.end < len(toks) and _number(toks, m.end) is not None:
            return None  # "um vier sieben eins eins": digits of a booking number, not a time
        minute, j = m.value, m.end
    elif trigger and _number(toks, j) is not None:
        return None
    if trigger and j < len(toks) and toks[j].word in _MONEY:
        return None
    return n.value, minute, n.padded, j


def find_time(text: str | Utterance) -> ClockTime | None:
    """The first clock time in ``text`` (see the module doc for the forms and the afternoon rule), else None."""
    cleaned = text.cleaned if isinstance(text, Utterance) else clean(text if isinstance(text, str) else str(text))
    toks = [_Tok(fold(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(cleaned)]
    words = {t.word for t in toks}
    morning = bool(words & _MORNING) or {'ogleden', 'once'} <= words
    evening = bool(words & _EVENING) or {'ogleden', 'sonra'} <= words
    for i in range(len(toks)):
        found = _match(toks, i)
        if found is None:
            continue
        hour, minute, padded, first, end = found
        if not (0 <= hour <= 24 and 0 <= minute <= 59) or (hour == 24 and minute):
            continue
        if not padded and not morning and (1 <= hour <= 6 or (hour < 12 and evening)):
            hour += 12
        start, stop = toks[first].start, toks[end - 1].end
        return ClockTime(hour % 24, minute, cleaned[:start] + ' ' + cleaned[stop:])
    return None


def time_of_day(text: str) -> str | None:
    """A clock time the visitor mentions, as ``HH:MM`` ("um halb elf" → "10:30"), else None."""
    found = find_time(text)
    return found.text if found else None

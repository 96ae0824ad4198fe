"""Text normalisation for matching ASR output and typed text against the catalog and lexicon.

Real ASR text has no capitals or punctuation, writes ``ae/oe/ue/ss`` for umlauts, drops Turkish
letters (``kimligimi``) and splits or joins compounds at will. Both the utterance and every keyword
go through the same pipeline (lower case, Snowball stem, fold to plain ASCII letters), so the two
meet in the middle whatever spelling the visitor or the ASR used.
"""
from __future__ import annotations

from functools import lru_cache
import re
import unicodedata

import snowballstemmer

#: Longer inputs are cut: nobody says more than this in one utterance, and it bounds the latency.
MAX_CHARS = 400
MAX_TOKENS = 60

#: Snowball's stemmer per language code: a new language of the catalog finds its stemmer here (no Snowball
#: stemmer: words are matched unstemmed, folded).
_SNOWBALL = {'de': 'german', 'tr': 'turkish', 'en': 'english', 'fr': 'french', 'es': 'spanish', 'it': 'italian',
             'nl': 'dutch', 'pt': 'portuguese', 'ru': 'russian', 'ar': 'arabic', 'sv': 'swedish', 'da': 'danish',
             'no': 'norwegian', 'fi': 'finnish', 'hu': 'hungarian', 'ro': 'romanian', 'el': 'greek', 'sr': 'serbian',
             'uk': 'ukrainian', 'hy': 'armenian', 'ca': 'catalan', 'lt': 'lithuanian', 'id': 'indonesian'}
_STEMMERS = {code: snowballstemmer.stemmer(name) for code, name in _SNOWBALL.items()
             if name in snowballstemmer.algorithms()}
_NON_WORD = re.compile(r'[\W_]+', re.UNICODE)
_DIGITS_LETTERS = re.compile(r'(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)')
_FOLD_PAIRS = (('ae', 'a'), ('oe', 'o'), ('ue', 'u'))


def lower(text: str, language: str = '') -> str:
    """Lower-case with the Turkish dotted/dotless I handled (``İ`` → ``i``; ``I`` → ``ı`` in Turkish)."""
    text = text.replace('İ', 'i').replace('I', 'ı' if language == 'tr' else 'i')
    return text.lower()


def clean(text: str, language: str = '') -> str:
    """Lower case, printable, length-bounded text with single spaces (punctuation kept for slots)."""
    if not isinstance(text, str):
        text = str(text)
    text = ''.join(ch if ch.isprintable() else ' ' for ch in text[:MAX_CHARS])
    return ' '.join(lower(text, language).split())


def tokens(text: str, language: str = '') -> list[str]:
    """Words of the cleaned text: punctuation dropped, digits split from letters (``4711er`` → ``4711 er``)."""
    return _split(clean(text, language))


def _split(cleaned: str) -> list[str]:
    text = _NON_WORD.sub(' ', cleaned)
    text = _DIGITS_LETTERS.sub(' ', text)
    return text.split()[:MAX_TOKENS]


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Plain ASCII-ish key: accents and umlauts dropped, ``ı`` → ``i``, ``ae/oe/ue`` → ``a/o/u``."""
    decomposed = unicodedata.normalize('NFKD', word.replace('ı', 'i').replace('ß', 'ss'))
    out = ''.join(ch for ch in decomposed if not unicodedata.combining(ch))
    for pair, single in _FOLD_PAIRS:
        out = out.replace(pair, single)
    return out


@lru_cache(maxsize=65536)
def stem_key(word: str, language: str) -> str:
    """The matching key of one lower-case word: its Snowball stem in ``language``, folded."""
    stemmer = _STEMMERS.get(language)
    if language == 'tr':
        # ASR and keyboards often drop Turkish letters (kimligimi, dogum): stem the folded form, so
        # "doğum" and "dogum" meet (the stemmer would read the ğ as a softened k otherwise).
        word = fold(word)
    stem = stemmer.stemWord(word) if stemmer and len(word) > 3 else word
    return fold(stem)


@lru_cache(maxsize=65536)
def word_keys(word: str, language: str) -> tuple[str, ...]:
    """Every matching key of one word: its stem(s) and its folded form, most specific first.

    Stems of two letters or fewer from longer words are dropped: the Turkish stemmer reads
    "müdür" as "mu" (the question particle), which would match far too much.
    """
    folded = fold(word)
    found = [stem_key(word, language)]
    if language == 'tr' and len(word) > 3:
        found.append(fold(_STEMMERS['tr'].stemWord(word)))
    found.append(folded)
    out: list[str] = []
    for key in found:
        if (len(key) >= 3 or len(folded) <= 3) and key not in out:
            out.append(key)
    return tuple(out) or (folded,)


def keys(text: str, language: str) -> list[tuple[str, ...]]:
    """Matching keys of every word of ``text``."""
    return [word_keys(w, language) for w in tokens(text, language)]


class Utterance:
    """One thing a visitor said or typed, normalised once and shared by every reader.

    Language detection, understanding, clock times and booking numbers all read the same cleaned text,
    tokens and folded words from here instead of cleaning and folding the text again. The Turkish
    lower-casing (``I`` → ``ı``) is the one difference between languages: the Turkish tokens are made
    separately only when the text has an ``I``.
    """

    def __init__(self, text: object):
        self.text = text if isinstance(text, str) else str(text)
        #: Lower case, printable, length-bounded, single spaces (language-neutral lower-casing).
        self.cleaned = clean(self.text)
        self._tokens: dict[str, list[str]] = {}
        self._folded: dict[str, list[str]] = {}

    @classmethod
    def from_cleaned(cls, cleaned: str) -> Utterance:
        """An utterance of text that is already clean (part of a cleaned text: cleaning again changes nothing)."""
        u = cls.__new__(cls)
        u.text = u.cleaned = cleaned
        u._tokens, u._folded = {}, {}
        return u

    @property
    def says_something(self) -> bool:
        """Any letter or digit at all (blanks, punctuation, ASR noise say nothing)."""
        return any(ch.isalnum() for ch in self.text)

    def _key(self, language: str) -> str:
        return 'tr' if language == 'tr' and 'I' in self.text[:MAX_CHARS] else ''

    def tokens(self, language: str = '') -> list[str]:
        """Words (see :func:`tokens`), lower-cased for ``language``."""
        key = self._key(language)
        found = self._tokens.get(key)
        if found is None:
            found = self._tokens[key] = _split(self.cleaned if not key else clean(self.text, key))
        return found

    def folded(self, language: str = '') -> list[str]:
        """The words folded to their plain keys (:func:`fold`)."""
        key = self._key(language)
        found = self._folded.get(key)
        if found is None:
            found = self._folded[key] = [fold(w) for w in self.tokens(language)]
        return found


def as_utterance(text: object) -> Utterance:
    return text if isinstance(text, Utterance) else Utterance(text)

"""German, Turkish or English? Evidence from letters, spelling, Turkish suffixes and each language's own words.

Used when the speech layer does not say which language it heard (typed text, a language-neutral ASR).
Every word adds evidence for a language:

- letters only one language writes: ``ş ğ ı ç`` Turkish, ``ä ß`` German (2 per letter);
- German spelling: ``ch``, ``ck``, ``tz``, ``pf``, ``w``, ``q``, ``x`` (never in Turkish words), ``ei``/``ie``/``au``/
  ``eu`` (rarely), two consonants at the start, b/d/g, a double consonant or ``-lle``/``-sse``/``-tte`` at the
  end, ``-tion``, the endings ``-ung``/``-heit``/``-keit``/``-schaft``/``-lich``;
- Turkish spelling: ``-lar/-ler``, ``-mak/-mek``, ``-yor``, possessive and case chains, ``-lik``/``-luk``, a ``c``
  outside ``ch``/``ck``, ``y`` before a vowel inside a word;
- English spelling: ``th``, ``sh``, ``wh``, ``ee``/``oo``/``ea``/``ou``/``ai``/``ay``, ``-ing``/``-ness``/``-ment``/
  ``-ly``/``-ed``, an apostrophe inside a word; spelling German and English share (``ch``, ``ck``, ``w``, a
  consonant cluster at the start) counts for both;
- weak (0.25): Turkish vowel harmony (all vowels front or all back) or its absence;
- words of one language only: function words and intent words (``lexicon.yaml``) and the words of the
  catalog's names and keywords of that language (a word both lists share, such as "Meldestelle",
  which Turkish speakers use too, is no evidence); a Turkish word with a suffix ("pasaportumu") or a
  German compound ("Kinderreisepass") counts through its known part.

A tie keeps ``default`` (the conversation's language). Pure Python, no ROS.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
import re

from l2b2_common.catalog import LANGUAGES
from l2b2_dialogue.normalize import Utterance, clean, fold, tokens

_WORD = re.compile(r'[^\W\d_]+')
_GERMAN_SPELLING = ('ch', 'ck', 'tz', 'pf', 'w', 'q', 'x', 'ph', 'th')
#: Of the German spelling, what English writes too (evidence for both).
_SHARED_SPELLING = ('ch', 'ck', 'w', 'q', 'x', 'ph', 'th')
_ENGLISH_SPELLING = ('th', 'sh', 'wh', 'ee', 'oo', 'ea', 'ou', 'ai', 'ay', 'oa', 'ght')
_ENGLISH_ENDINGS = ('ing', 'ness', 'ment', 'ly', 'ed', 'ful', 'ous', 'able', 'ity')
_GERMAN_VOWELS = ('ei', 'ie', 'au', 'eu')
_GERMAN_ENDINGS = ('ung', 'heit', 'keit', 'schaft', 'lich', 'isch', 'nis')
#: Folded Turkish endings: plural, infinitive, progressive, possessive and case chains, past tense.
_TURKISH_ENDINGS = ('lar', 'ler', 'lari', 'leri', 'mak', 'mek', 'yor', 'yorum', 'imi', 'umu', 'ini', 'unu', 'sini',
                    'sunu', 'imiz', 'umuz', 'iniz', 'unuz', 'nin', 'nun', 'dim', 'dum', 'tim', 'tum', 'ligi', 'lugu',
                    'mam', 'mem', 'lik', 'luk')
#: Turkish words start with at most one consonant, end in no b/d/g (final devoicing: "kitap", "kayıt") and no
#: double consonant; German words often do ("Stuhl", "Umzug", "Imbiss"), and "-tion" is no Turkish ending.
_GERMAN_SHAPE = re.compile(r'^[bcdfgkpstvz][bcdfghklmnprstvwz]|\w{3}[bdg]$|(ss|ff|ll|mm|nn|tt|rr)$|(ss|ff|ll|mm|tt)e$|tion')
#: A "c" that is not part of "ch"/"ck" (Turkish /dʒ/: "iltica", "ceza"), "y" before a vowel inside a word
#: ("sandalye", "velayet").
_TURKISH_SHAPE = re.compile(r'c(?![hk])|\wy[aeiou]')
#: What may follow a Turkish root: suffixes start with a vowel or one of l d t n s y m c g k (ğ folds to g),
#: never have two vowels in a row, and a consonant pair only before a suffix's d t l n ("-ımızdan").
_FRONT, _BACK = set('eiöü'), set('aıou')
_SUFFIX = re.compile(r'^(?=[aeiouldtnsymcgk])(?!.*[aeiou]{2})(?!.*[^aeiou][^aeioudtln])[a-z]{1,10}$')
_MIN_PART = 4


def _vocabulary_words(text: str) -> set[str]:
    return {fold(w) for w in tokens(text) if not w.isdigit()}


class LanguageDetector:
    """Built once from word lists per language (``words[lang]``: texts, phrases or single words)."""

    def __init__(self, words: dict[str, Iterable[str]]):
        #: folded word → number of texts of each language that contain it.
        self.counts: dict[str, Counter] = {lang: Counter() for lang in LANGUAGES}
        for lang in LANGUAGES:
            for text in words.get(lang, ()):
                self.counts[lang].update(_vocabulary_words(text))
        self._parts = {lang: sorted({w for w in self.counts[lang] if len(w) >= _MIN_PART}, key=len, reverse=True)
                       for lang in LANGUAGES}
        self._cache: dict[tuple[str, str], float] = {}

    def _known(self, word: str, lang: str, unseen: str) -> bool:
        """``word`` is in ``lang``'s vocabulary (not counting the one text ``unseen`` left out of it)."""
        return self.counts[lang][word] > (1 if lang == unseen else 0)

    def _own(self, word: str, lang: str, unseen: str) -> bool:
        return self._known(word, lang, unseen) and not any(
            self._known(word, other, unseen) for other in LANGUAGES if other != lang)

    def _part_evidence(self, word: str, lang: str) -> bool:
        """A known word of ``lang`` with a Turkish suffix after it, or as a part of a German compound."""
        if len(word) < _MIN_PART + 2:
            return False
        others = [o for o in LANGUAGES if o != lang]
        for part in self._parts[lang]:
            if len(part) >= len(word) or any(self.counts[o][part] for o in others):
                continue
            if lang == 'tr':
                if word.startswith(part) and _SUFFIX.match(word[len(part):]):
                    return True
                if len(part) >= 5 and part[-1] in 'kctp' and word.startswith(part[:-1]) and _SUFFIX.match(
                        word[len(part) - 1:]):
                    return True
                continue
            if lang != 'tr' and len(part) >= 5 and (word.startswith(part) or word.endswith(part)):
                return True
        return False

    def word_scores(self, raw: str, unseen: str = '') -> dict[str, float]:
        """Evidence of one lower-case word for each language."""
        score = dict.fromkeys(LANGUAGES, 0.0)
        word = fold(raw)
        score['tr'] += 2.0 * sum(raw.count(ch) for ch in 'şğıç')
        score['de'] += 2.0 * sum(raw.count(ch) for ch in 'äß')
        known = False
        for lang in LANGUAGES:
            if self._own(word, lang, unseen):
                score[lang] += 1.5
                known = True
        if not known and not any(self._known(word, lang, unseen) for lang in LANGUAGES):
            for lang in LANGUAGES:
                key = (word, lang)
                hit = self._cache.get(key)
                if hit is None:
                    hit = 1.0 if self._part_evidence(word, lang) else 0.0
                    if len(self._cache) < 50000:
                        self._cache[key] = hit
                score[lang] += hit
        english = 'en' in score
        if any(s in word for s in _GERMAN_SPELLING):
            score['de'] += 1.0
            if english and any(s in word for s in _SHARED_SPELLING):
                score['en'] += 1.0
        elif any(s in word for s in _GERMAN_VOWELS):
            score['de'] += 0.5
        if english and ("'" in raw.strip("'") or any(s in word for s in _ENGLISH_SPELLING)):
            score['en'] += 0.5
        if len(word) >= 5:
            if word.endswith(_GERMAN_ENDINGS):
                score['de'] += 0.5
            elif word.endswith(_TURKISH_ENDINGS) or (len(word) >= 6 and 'yor' in word):
                score['tr'] += 0.5
            if english and word.endswith(_ENGLISH_ENDINGS):
                score['en'] += 0.5
        if _GERMAN_SHAPE.search(word):
            score['de'] += 0.5
            if english:
                score['en'] += 0.5
        if _TURKISH_SHAPE.search(word):
            score['tr'] += 0.5
        vowels = [ch for ch in raw if ch in _FRONT or ch in _BACK]
        if len(vowels) >= 2 and not any(s in word for s in (*_GERMAN_SPELLING, *_GERMAN_VOWELS)):
            harmonic = all(v in _FRONT for v in vowels) or all(v in _BACK for v in vowels)
            for lang in (('tr',) if harmonic else [o for o in score if o != 'tr']):
                score[lang] += 0.25
        return score

    def scores(self, text: str | Utterance, unseen: str = '') -> dict[str, float]:
        """Evidence per language for a whole text (``unseen``: leave the text out of that language's words)."""
        total = dict.fromkeys(LANGUAGES, 0.0)
        cleaned = text.cleaned if isinstance(text, Utterance) else clean(text)
        for raw in _WORD.findall(cleaned):
            for lang, value in self.word_scores(raw, unseen).items():
                total[lang] += value
        return total

    def detect(self, text: str | Utterance, default: str = 'de', unseen: str = '') -> str:
        """The language with the most evidence; ``default`` (the conversation's language) on a tie."""
        score = self.scores(text, unseen)
        best = max(score.values())
        leaders = [lang for lang, value in score.items() if value == best]
        default = default if default in LANGUAGES else 'de'
        return default if default in leaders else leaders[0]

    def clear_cache(self) -> None:
        self._cache.clear()

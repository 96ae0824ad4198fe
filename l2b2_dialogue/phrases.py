"""Phrases of keywords and an index that scores an utterance's words against them.

The matching core of the understanding (:mod:`l2b2_dialogue.nlu`): a phrase word matches an utterance
word exactly, as part of a compound or with a Turkish suffix, or by a rapidfuzz ratio (misspellings).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from l2b2_common.catalog import LANGUAGES
from l2b2_dialogue.normalize import fold, tokens, word_keys

#: Quality of a word match: exact key, keyword inside a longer word (compound/suffix), fuzzy.
EXACT, PARTIAL, FUZZY = 1.0, 0.85, 0.75
FUZZY_CUTOFF = 85.0
MIN_PARTIAL_LEN = 4


@dataclass(frozen=True)
class Phrase:
    """A keyword phrase of one label (a target id or an intent), as matching keys."""

    label: str
    words: tuple[str, ...]
    weight: float = 1.0


class PhraseIndex:
    """Phrases of many labels; scores an utterance's word keys against them.

    A phrase word is known by a canonical key and any number of aliases (other stems, the folded
    unstemmed form, the Turkish root before consonant mutation); an utterance word matches it by
    any of them.
    """

    def __init__(self, phrases: list[Phrase], aliases: dict[str, set[str]], *, partial: bool, prefix: bool = False,
                 suffixing: bool = False, prefix_endings: frozenset[str] | None = None):
        self.phrases = phrases
        self.partial = partial
        #: Turkish adds suffixes, German builds compounds: in Turkish a short keyword only matches a word's start.
        self.suffixing = suffixing
        #: Whole words, but a suffix may follow (Turkish intent words: "yetkili" → "yetkiliyle").
        self.prefix = prefix
        #: What may follow a prefix match besides a word of its own (≥ 4 letters, a compound: "Terminbestätigung"):
        #: None: anything (Turkish suffixes); else these endings ("Termine", "appointments"), so that "Terminal"
        #: is no "Termin".
        self.prefix_endings = prefix_endings
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(phrases):
            for w in set(p.words):
                self.by_word[w].append(i)
        self.aliases = {a: frozenset(c for c in canon if c in self.by_word) for a, canon in aliases.items()}
        self.aliases = {a: c for a, c in self.aliases.items() if c}
        self._long_aliases = [a for a in self.aliases if len(a) >= MIN_PARTIAL_LEN]
        self._rank = {a: i for i, a in enumerate(self._long_aliases)}
        self._cache: dict[str, dict[str, float]] = {}

    def alias_matches(self, key: str) -> dict[str, float]:
        """Aliases that one key of an utterance word matches, with match quality."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: dict[str, float] = {}
        if key in self.aliases:
            out[key] = EXACT
        # Known words at the start of (prefix) or inside (partial) the key: its prefixes and substrings looked
        # up, not every known word scanned (the same matches, in time of the key's length, not the lexicon's).
        # (Found in the order of the known words, as a scan would find them: ties between phrases keep their order.)
        if self.prefix and len(key) > 5:
            found = {key[:k] for k in range(5, len(key)) if key[:k] in self.aliases
                     and (self.prefix_endings is None or len(key) - k >= 4 or key[k:] in self.prefix_endings)}
            for a in sorted(found, key=self._rank.get):
                out[a] = max(out.get(a, 0.0), PARTIAL)
        if self.partial and len(key) >= MIN_PARTIAL_LEN:
            n = len(key)
            inside = {key[i:j] for i in range(n - MIN_PARTIAL_LEN + 1) for j in range(i + MIN_PARTIAL_LEN, n + 1)}
            for a in sorted((a for a in inside if a != key and a in self.aliases), key=self._rank.get):
                if _partial_ok(a, key, self.suffixing):
                    out[a] = max(out.get(a, 0.0), PARTIAL)
            if len(key) >= 5:
                for a, score, _ in process.extract(key, self._long_aliases, scorer=fuzz.ratio,
                                                   score_cutoff=FUZZY_CUTOFF, limit=5):
                    if len(a) >= 5 and abs(len(a) - len(key)) <= 1:
                        out[a] = max(out.get(a, 0.0), FUZZY * score / 100.0)
            # The longest known part of a compound wins: "bewohnerparkausweis" is a parking permit,
            # not an ID card, although it contains "ausweis".
            for a in [a for a, q in out.items() if q < EXACT]:
                if any(a != b and a in b for b in out):
                    del out[a]
        if len(self._cache) < 50000:
            self._cache[key] = out
        return out

    def word_matches(self, word_keys: tuple[str, ...]) -> dict[str, float]:
        """Canonical phrase words that one utterance word (given by its keys) matches."""
        out: dict[str, float] = {}
        for key in word_keys:
            for alias, quality in self.alias_matches(key).items():
                for canon in self.aliases[alias]:
                    out[canon] = max(out.get(canon, 0.0), quality)
        return out

    def score(self, words: list[tuple[str, ...]], ignore: frozenset[int] = frozenset()) -> dict[str, float]:
        """label → score: the best phrase counts fully, phrases covering further words add a little."""
        return {label: value for label, (value, _) in self.score_with_coverage(words, ignore).items()}

    def score_with_coverage(self, words: list[tuple[str, ...]], ignore: frozenset[int] = frozenset(),
                            exact_from: int | None = None) -> dict[str, tuple[float, frozenset[int]]]:
        """label → (score, utterance word positions its best phrases used); words in ``ignore`` are skipped, and
        from position ``exact_from`` on (two words joined: "check in" → "checkin") only exact matches count
        ("Terminal für" joined is no "Termin")."""
        matched: dict[str, tuple[float, set[int]]] = {}
        for pos, one_word in enumerate(words):
            if pos in ignore:
                continue
            for w, q in self.word_matches(one_word).items():
                if exact_from is not None and pos >= exact_from and q < EXACT:
                    continue
                old_q, where = matched.get(w, (0.0, set()))
                matched[w] = (max(old_q, q), where | {pos})
        if not matched:
            return {}
        per_label: dict[str, list[tuple[float, frozenset[int]]]] = defaultdict(list)
        seen: set[int] = set()
        for w in matched:
            for i in self.by_word[w]:
                if i in seen:
                    continue
                seen.add(i)
                p = self.phrases[i]
                if all(x in matched for x in p.words):
                    quality = sum(matched[x][0] for x in p.words) / len(p.words)
                    covered = frozenset().union(*(matched[x][1] for x in p.words))
                    per_label[p.label].append((quality * p.weight * (1.0 + 0.6 * (len(p.words) - 1)), covered))
        scores = {}
        for label, values in per_label.items():
            values.sort(key=lambda v: -v[0])
            total, covered = values[0]
            extras = 0
            for value, where in values[1:]:
                # Another phrase of the same label counts only if it covers other words of the utterance:
                # "Reisepass" must not win by also matching "pass" and "reise" inside the same word.
                if extras < 2 and not where <= covered:
                    total += 0.25 * value
                    covered = covered | where
                    extras += 1
            scores[label] = (total, covered)
        return scores


class PhraseBuilder:
    """Collects phrases and the aliases of their words (``stopwords[lang]``: words left out of a phrase)."""

    def __init__(self, stopwords: dict[str, frozenset[str]] | None = None) -> None:
        self.stopwords = stopwords or {}
        self.phrases: list[Phrase] = []
        self.aliases: dict[str, set[str]] = defaultdict(set)

    def add(self, label: str, text: str, lang: str, weight: float = 1.0, drop_stopwords: bool = False,
            stem: bool = True) -> None:
        words = []
        for w in tokens(text, lang):
            wkeys = word_keys(w, lang) if stem else (fold(w),)
            canon = wkeys[0]
            if drop_stopwords and (canon in self.stopwords.get(lang, ()) or canon.isdigit()):
                continue
            for k in wkeys:
                self.aliases[k].add(canon)
                if lang == 'tr':
                    self.aliases[_turkish_root(k)].add(canon)
            if canon not in words:
                words.append(canon)
        if words:
            self.phrases.append(Phrase(label, tuple(words), weight))



class WordList:
    """A lexicon list of every language as folded word tuples; :meth:`found` tells whether one occurs as
    consecutive words, a word of 4+ letters also as a word's beginning ("samstags", "çarşambaları")."""

    def __init__(self, phrases) -> None:
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p))
        self.single = frozenset(p[0] for p in self.phrases if len(p) == 1)
        self.multi = tuple(p for p in self.phrases if len(p) > 1)

    def __iter__(self):
        return iter(self.phrases)

    @staticmethod
    def _same(word: str, key: str) -> bool:
        return word == key or (len(key) >= 4 and word.startswith(key) and len(word) <= len(key) + 5)

    def found(self, folded: list[str]) -> bool:
        for w in folded:
            if w in self.single or any(w[:k] in self.single for k in range(max(4, len(w) - 5), len(w))):
                return True
        for phrase in self.multi:
            k = len(phrase)
            for i in range(len(folded) - k + 1):
                if all(self._same(folded[i + j], phrase[j]) for j in range(k)):
                    return True
        return False


def word_list(per_language) -> WordList:
    """A lexicon list (:class:`~l2b2_dialogue.lexicon.PerLanguage`, every language) as a :class:`WordList`."""
    return WordList(tuple(fold(w) for w in tokens(p)) for lang in LANGUAGES for p in per_language.of(lang))

def _partial_ok(word: str, key: str, suffixing: bool = False) -> bool:
    """A keyword inside a longer word: any position for long keywords, start (or end, in German) for short ones."""
    if len(word) >= (6 if suffixing else 5):
        return True
    return key.startswith(word) or (not suffixing and key.endswith(word))


def _turkish_root(word: str) -> str:
    """Turkish consonant mutation: "kimlik" → "kimliğimi", "kitap" → "kitabı": match on the root."""
    if len(word) >= 5 and word[-1] in 'kctp':
        return word[:-1]
    return word

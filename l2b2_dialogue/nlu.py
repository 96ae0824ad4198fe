"""Natural-language understanding: an utterance in German or Turkish → intent, target, slots, confidence.

Rules over a weighted keyword index, not a trained model: every word the robot reacts to is in
``config/departments.yaml`` (targets and their services) or ``lexicon.yaml`` (intents), so a city
fixes a misunderstanding by editing a list. Matching tolerates ASR text: words are Snowball-stemmed
and folded (:mod:`l2b2_dialogue.normalize`), German compounds and Turkish suffixes match by prefix/
suffix/infix of the keyword, and misspellings by a rapidfuzz ratio.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from l2b2_common.catalog import LANGUAGES, Catalog, load_catalog, other_language
from l2b2_common.config import Section, load_yaml
from l2b2_dialogue import LEXICON_FILE
from l2b2_dialogue.langdet import LanguageDetector
from l2b2_dialogue.normalize import fold, stem_key, tokens, word_keys
from l2b2_dialogue.numbers import booking_number
from l2b2_dialogue.times import find_time

INTENTS = ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'goodbye', 'affirm', 'deny',
           'language_switch', 'staff_help', 'smalltalk', 'out_of_scope')
_LEXICON_INTENTS = tuple(i for i in INTENTS if i != 'escort')
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


@dataclass
class Understanding:
    """What the visitor wants, as far as the robot understood it."""

    intent: str
    target: str | None
    confidence: float
    language: str
    slots: dict[str, Any] = field(default_factory=dict)
    #: The best targets with their confidence, best first (for a clarifying question).
    candidates: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {'intent': self.intent, 'target': self.target, 'confidence': round(self.confidence, 3),
                'language': self.language, 'slots': self.slots,
                'candidates': [[t, round(c, 3)] for t, c in self.candidates]}


class PhraseIndex:
    """Phrases of many labels; scores an utterance's word keys against them.

    A phrase word is known by a canonical key and any number of aliases (other stems, the folded
    unstemmed form, the Turkish root before consonant mutation); an utterance word matches it by
    any of them.
    """

    def __init__(self, phrases: list[Phrase], aliases: dict[str, set[str]], *, partial: bool, prefix: bool = False,
                 suffixing: bool = False):
        self.phrases = phrases
        self.partial = partial
        #: Turkish adds suffixes, German builds compounds: in Turkish a short keyword only matches a word's start.
        self.suffixing = suffixing
        #: Whole words, but a suffix may follow (Turkish intent words: "yetkili" → "yetkiliyle").
        self.prefix = prefix
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(phrases):
            for w in set(p.words):
                self.by_word[w].append(i)
        self.aliases = {a: frozenset(c for c in canon if c in self.by_word) for a, canon in aliases.items()}
        self.aliases = {a: c for a, c in self.aliases.items() if c}
        self._long_aliases = [a for a in self.aliases if len(a) >= MIN_PARTIAL_LEN]
        self._cache: dict[str, dict[str, float]] = {}

    def alias_matches(self, key: str) -> dict[str, float]:
        """Aliases that one key of an utterance word matches, with match quality."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: dict[str, float] = {}
        if key in self.aliases:
            out[key] = EXACT
        if self.prefix and len(key) > 5:
            for a in self._long_aliases:
                if len(a) >= 5 and a != key and key.startswith(a):
                    out[a] = max(out.get(a, 0.0), PARTIAL)
        if self.partial and len(key) >= MIN_PARTIAL_LEN:
            for a in self._long_aliases:
                if a != key and a in key and _partial_ok(a, key, self.suffixing):
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

    def score_with_coverage(self, words: list[tuple[str, ...]],
                            ignore: frozenset[int] = frozenset()) -> dict[str, tuple[float, frozenset[int]]]:
        """label → (score, utterance word positions its best phrases used); words in ``ignore`` are skipped."""
        matched: dict[str, tuple[float, set[int]]] = {}
        for pos, one_word in enumerate(words):
            if pos in ignore:
                continue
            for w, q in self.word_matches(one_word).items():
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


class _PhraseBuilder:
    """Collects phrases and the aliases of their words."""

    def __init__(self) -> None:
        self.phrases: list[Phrase] = []
        self.aliases: dict[str, set[str]] = defaultdict(set)

    def add(self, label: str, text: str, lang: str, weight: float = 1.0, drop_stopwords: bool = False,
            stem: bool = True) -> None:
        words = []
        for w in tokens(text, lang):
            wkeys = word_keys(w, lang) if stem else (fold(w),)
            canon = wkeys[0]
            if drop_stopwords and (canon in _STOPWORDS[lang] or canon.isdigit()):
                continue
            for k in wkeys:
                self.aliases[k].add(canon)
                if lang == 'tr':
                    self.aliases[_turkish_root(k)].add(canon)
            if canon not in words:
                words.append(canon)
        if words:
            self.phrases.append(Phrase(label, tuple(words), weight))


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


class Understander:
    """Loads the catalog and the lexicon once; :meth:`understand` is then pure and fast."""

    def __init__(self, catalog: Catalog | None = None, lexicon_path: str | Path | None = None,
                 threshold: float = 0.6, default_language: str = 'de'):
        self.catalog = catalog or load_catalog()
        self.threshold = threshold
        self.default_language = default_language
        path = Path(lexicon_path) if lexicon_path else LEXICON_FILE
        lex = Section(path, '', load_yaml(path))
        lex.unknown_keys({'intents', 'where', 'ordinals', 'function_words', 'blocked_tokens'})
        intents = lex.section('intents')
        intents.unknown_keys(set(_LEXICON_INTENTS))
        self.blocked = {fold(w) for w in lex.list('blocked_tokens', [])}
        self.target_index: dict[str, PhraseIndex] = {}
        self.intent_index: dict[str, PhraseIndex] = {}
        self.where: dict[str, set[str]] = {}
        self.ordinals: dict[str, list[str]] = {}
        self.function_words: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            self.target_index[lang] = self._target_phrases(lang)
            builder = _PhraseBuilder()
            for intent in _LEXICON_INTENTS:
                for text in _lang_list(intents.section(intent), lang):
                    # Intent words are not stemmed (a suffix may follow them): "nasılsın" (how are you) is not
                    # "nasıl" (how), "das wäre" is not "das war's".
                    builder.add(intent, text, lang, stem=False)
            self.intent_index[lang] = PhraseIndex(builder.phrases, builder.aliases, partial=False, prefix=True)
            self.where[lang] = {k for text in _lang_list(lex.section('where'), lang)
                                for w in tokens(text, lang) for k in word_keys(w, lang)}
            self.ordinals[lang] = [fold(w) for w in _lang_list(lex.section('ordinals'), lang)]
            self.function_words[lang] = {fold(w) for w in _lang_list(lex.section('function_words'), lang)}
        self.language_detector = LanguageDetector(self._language_words(intents))

    # -- building the index ---------------------------------------------------------------------------
    def _target_phrases(self, lang: str) -> PhraseIndex:
        raw: list[tuple[str, str, str]] = []  # (target, phrase, phrase language)
        for target in self.catalog.targets.values():
            texts = [(name, name_lang) for name_lang, name in target.name.items()]
            texts += [(w, src_lang) for src_lang, words in target.keywords.items() for w in words]
            for service in target.services:
                texts += [(name, name_lang) for name_lang, name in service.name.items()]
                texts += [(w, src_lang) for src_lang, words in service.keywords.items() for w in words]
            raw += [(target.id, text, text_lang) for text, text_lang in texts if text_lang in LANGUAGES]
        builder = _PhraseBuilder()
        for target_id, text, src_lang in raw:
            # Words of the other language still count (code-switching: "Ausländerbehörde nerede"),
            # but a little less than the visitor's own language.
            builder.add(target_id, text, src_lang, 1.0 if src_lang == lang else 0.9, drop_stopwords=True)
        # Specific words beat generic ones: a single word that is a keyword of several targets weighs less.
        owners: dict[str, set[str]] = defaultdict(set)
        for p in builder.phrases:
            if len(p.words) == 1:
                owners[p.words[0]].add(p.label)
        phrases = [Phrase(p.label, p.words, p.weight / len(owners[p.words[0]]) ** 0.5) if len(p.words) == 1 else p
                   for p in builder.phrases]
        return PhraseIndex(phrases, builder.aliases, partial=True, suffixing=lang == 'tr')

    def _language_words(self, intents: Section) -> dict[str, list[str]]:
        """Words that show a language: function and intent words, and the catalog's names and keywords."""
        words: dict[str, list[str]] = {lang: sorted(self.function_words[lang]) for lang in LANGUAGES}
        for lang in LANGUAGES:
            for intent in _LEXICON_INTENTS:
                words[lang] += _lang_list(intents.section(intent), lang)
            words[lang] += catalog_texts(self.catalog, lang)
        return words

    def clear_caches(self) -> None:
        """Forget cached word matches (the benchmark measures the cold path with it)."""
        for index in (*self.target_index.values(), *self.intent_index.values()):
            index._cache.clear()
        for cached in (fold, word_keys, stem_key):
            cached.cache_clear()
        self.language_detector.clear_cache()

    # -- understanding ------------------------------------------------------------------------------------
    def detect_language(self, text: str, default: str = '') -> str:
        """de or tr (:mod:`l2b2_dialogue.langdet`); ``default`` (the conversation's language) on a tie."""
        default = default if default in LANGUAGES else self.default_language
        return self.language_detector.detect(text, default)

    def understand(self, text: str, language: str = '') -> Understanding:
        """Intent, target, slots and confidence of one utterance; never raises on any input."""
        text = text if isinstance(text, str) else str(text)
        lang = language if language in LANGUAGES else self.detect_language(text)
        words = tokens(text, lang)
        keys = [k if k[0] not in self.blocked else () for k in (word_keys(w, lang) for w in words)]
        # Compounds split by the ASR ("personal ausweis") also match their joined form: keys[n + i] joins
        # words i and i+1.
        keys += [word_keys(a + b, lang) if len(a) > 2 and len(b) > 2 else ()
                 for a, b in zip(words, words[1:], strict=False)]
        slots: dict[str, Any] = {}
        when = find_time(text)
        if when:
            slots['time'] = when.text
        # The digits of a time are no booking number: "Termin um 10:30" is not booking 1030.
        number = booking_number(when.rest if when else text)
        if number:
            slots['booking_number'] = number

        intent_cover = self.intent_index[lang].score_with_coverage(keys)
        intent_scores = {label: value for label, (value, _) in intent_cover.items()}
        target_scores = self.target_index[lang].score(keys)
        queue_intents = sorted((i for i in ('ticket', 'appointment_checkin') if i in intent_cover),
                               key=lambda i: -intent_cover[i][0])
        for intent in queue_intents:
            if target_scores:
                # "für meinen Termin anmelden": the words that made it a check-in do not also name a target.
                used = intent_cover[intent][1]
                used |= {len(words) + i for i in range(len(words) - 1) if {i, i + 1} & used}
                target_scores = self.target_index[lang].score(keys, frozenset(used))
                break
        candidates = _candidates(target_scores)
        where = any(k in self.where[lang] for wkeys in keys for k in wkeys)
        queue_candidates = _candidates({t: v for t, v in target_scores.items()
                                        if self.catalog[t].scope_id is not None})
        intent, target, confidence = self._decide(keys, words, intent_scores, candidates, queue_candidates, where,
                                                  slots)
        if intent == 'language_switch':
            slots['language'] = self._switch_language(lang, words)
        if intent == 'deny' and {fold(w) for w in words} & _THANKS:
            slots['thanks'] = True
        ordinal = self._ordinal(lang, words)
        if ordinal is not None:
            slots['ordinal'] = ordinal
        return Understanding(intent, target, round(confidence, 3), lang, slots, candidates[:3])

    def _decide(self, keys, words, intents, candidates, queue_candidates, where, slots):
        """The intent by fixed precedence; see docs/dialogue.md."""
        top_target, target_conf = candidates[0] if candidates else (None, 0.0)
        n = max(1, len(words))
        # The strongest intent; near-ties go by _FALLBACK_ORDER ("danke tschüss" is a goodbye).
        best_intent = None
        if intents:
            top = max(intents.values())
            best_intent = min((i for i, v in intents.items() if v >= top - 0.1), key=_FALLBACK_ORDER.index)

        def has(intent: str, minimum: float = 0.5) -> bool:
            return intents.get(intent, 0.0) >= minimum

        if has('language_switch') and (_asks_language(words) or (n <= 3 and top_target is None)):
            return 'language_switch', None, 0.95
        if has('out_of_scope') and intents['out_of_scope'] >= 0.9 * (candidates[0][1] if candidates else 0) * 1.5:
            return 'out_of_scope', None, 0.8
        if _no_appointment(words) or (has('ticket') and 'booking_number' not in slots
                                      and intents['ticket'] >= intents.get('appointment_checkin', 0.0)):
            return 'ticket', self._queue_target(queue_candidates), 0.85
        if 'booking_number' in slots or has('appointment_checkin'):
            return 'appointment_checkin', self._queue_target(queue_candidates), 0.9
        if has('opening_hours') and (top_target is None or intents['opening_hours'] >= 0.9):
            return 'opening_hours', top_target if target_conf >= self.threshold else None, 0.85
        if has('staff_help') and (top_target is None or top_target == 'info' or intents['staff_help'] >= 1.5):
            return 'staff_help', None, 0.85
        if top_target is not None:
            conf = target_conf * (1.0 if where or n <= 6 else 0.95)
            return 'escort', top_target, conf
        if best_intent in ('goodbye', 'greeting', 'smalltalk', 'affirm', 'deny', 'out_of_scope', 'staff_help',
                           'opening_hours'):
            # Affirm/deny words inside a longer sentence ("nein, ich suche ...") only count in short answers.
            if best_intent in ('affirm', 'deny') and n > 5:
                return 'out_of_scope', None, 0.4
            return best_intent, None, min(1.0, 0.7 + 0.3 * intents[best_intent])
        # Words the lexicon does not know at all: confidently out of scope; nothing at all: no confidence.
        return 'out_of_scope', None, 0.5 if keys else (0.9 if words else 0.0)

    def _queue_target(self, candidates: list[tuple[str, float]]) -> str | None:
        """The department a ticket or appointment is for (only targets with a queue compete); None if unsure."""
        if candidates and candidates[0][1] >= max(self.threshold, 0.8):
            return candidates[0][0]
        return None

    def _switch_language(self, lang: str, words: list[str]) -> str:
        folded = {fold(w) for w in words}
        if folded & {'turkisch', 'turkce', 'turkish'}:
            return 'tr'
        if folded & {'deutsch', 'almanca', 'german'}:
            return 'de'
        return other_language(lang)

    def _ordinal(self, lang: str, words: list[str]) -> int | None:
        """"die zweite", "ikincisi": which of the offered candidates (0-based); inflections match by prefix."""
        folded = [fold(w) for w in words]
        for i, ordinal in enumerate(self.ordinals[lang]):
            if any(w.startswith(ordinal) and len(w) <= len(ordinal) + 4 for w in folded):
                return i
        return None


_FALLBACK_ORDER = ('language_switch', 'appointment_checkin', 'ticket', 'goodbye', 'staff_help', 'opening_hours',
                   'greeting', 'deny', 'affirm', 'out_of_scope', 'smalltalk')


_THANKS = {'danke', 'dankeschon', 'vielen', 'tesekkurler', 'tesekkur', 'sagol', 'sag', 'mersi'}

#: Words around a name ("mein Name ist ...", "soyadım ...") that are not the name.
_NAME_FILLERS = {'mein', 'meine', 'name', 'nachname', 'familienname', 'ist', 'ich', 'heisse', 'heiße', 'lautet', 'der',
                 'die', 'das', 'von', 'bin', 'frau', 'herr', 'herrn', 'und', 'ja', 'also', 'ah', 'äh', 'ähm', 'hm',
                 'benim', 'adım', 'adim', 'soyadım', 'soyadim', 'ismim', 'soy', 'adı', 'adi', 'ben', 'evet', 'bay',
                 'bayan', 'hanım', 'bey', 'diye', 'kayıtlı', 'bitte', 'lütfen', 'gerne', 'tabii', 'ile', 've'}


def name_from_text(text: str, max_words: int = 4) -> str:
    """The (sur)name a visitor says or types: "mein Name ist Erika Mustermann" → "Erika Mustermann"."""
    words = [w for w in tokens(text if isinstance(text, str) else str(text))
             if w not in _NAME_FILLERS and not w.isdigit() and len(w) > 1]
    return ' '.join(w.capitalize() for w in words[:max_words])


def _candidates(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Targets with a confidence: strength of the best match, discounted by close rivals."""
    if not scores:
        return []
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in ordered[:3])
    out = []
    for target, value in ordered[:3]:
        strength = min(1.0, value)
        share = value / total if total else 0.0
        out.append((target, strength * (0.35 + 0.65 * share)))
    return out


def _asks_language(words: list[str]) -> bool:
    folded = {fold(w) for w in words}
    return bool(folded & {'sprechen', 'sprache', 'konus', 'konusun', 'konusabilir', 'konusur', 'bitte', 'lutfen',
                          'auf', 'dil', 'biliyor', 'musunuz', 'misiniz', 'konusuyor'})


def _no_appointment(words: list[str]) -> bool:
    folded = ' '.join(fold(w) for w in words)
    return any(p in folded for p in ('ohne termin', 'keinen termin', 'kein termin', 'randevum yok', 'randevusuz',
                                     'randevu yok', 'randevum olmadan'))


def catalog_texts(catalog: Catalog, lang: str) -> list[str]:
    """Every name and keyword of the catalog's targets and services in one language."""
    out: list[str] = []
    for target in catalog.targets.values():
        out += [target.name[lang], *target.keywords.get(lang, ())]
        for service in target.services:
            out += [service.name[lang], *service.keywords.get(lang, ())]
    return [t for t in out if t]


def _lang_list(section: Section, lang: str) -> list[str]:
    items = section.list(lang, [])
    if not all(isinstance(w, str) and w.strip() for w in items):
        raise section.error(lang, 'must be a list of non-empty words or phrases')
    return items


_STOPWORDS = {'de': {'der', 'die', 'das', 'und', 'oder', 'von', 'fur', 'mit', 'ohne', 'im', 'in', 'am', 'an', 'zu',
                     'zum', 'zur', 'ein', 'eine', 'einer', 'eines', 'den', 'dem', 'des', 'bei', 'auf', 'nach', 'aus'},
              'tr': {'ve', 'ile', 'veya', 'icin', 'bir', 'de', 'da'}}


def load_understander(threshold: float = 0.6, catalog_path: str | None = None) -> Understander:
    """An Understander over the default (or given) catalog; ConfigError names file and key on problems."""
    return Understander(load_catalog(catalog_path), threshold=threshold)

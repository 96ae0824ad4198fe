"""Natural-language understanding: an utterance in German or Turkish → intent, target, slots, confidence.

Rules over a weighted keyword index, not a trained model: every word the robot reacts to is in
``config/departments.yaml`` (targets and their services) or ``lexicon.yaml`` (intents and the small
word lists of single decisions), so a city fixes a misunderstanding by editing a list. Matching
tolerates ASR text: words are Snowball-stemmed and folded (:mod:`l2b2_dialogue.normalize`), German
compounds and Turkish suffixes match by prefix/suffix/infix of the keyword, and misspellings by a
rapidfuzz ratio (:mod:`l2b2_dialogue.phrases`). The utterance is normalised once
(:class:`~l2b2_dialogue.normalize.Utterance`) and shared with language detection, times and numbers.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
import threading
from typing import Any

from l2b2_common.catalog import LANGUAGES, Catalog, load_catalog, other_language
from l2b2_common.config import ConfigError
from l2b2_dialogue import LEXICON_FILE  # noqa: F401 - re-exported: tests and tools find the lexicon here
from l2b2_dialogue.catalog_words import catalog_texts, name_in, office_names
from l2b2_dialogue.combine import Policy, combine
from l2b2_dialogue.langdet import LanguageDetector
from l2b2_dialogue.learned import LearnedModel, load_or_train
from l2b2_dialogue.lexicon import Lexicon, load_lexicon
from l2b2_dialogue.normalize import Utterance, as_utterance, fold, stem_key, tokens, word_keys
from l2b2_dialogue.numbers import booking_number, word_value
from l2b2_dialogue.phrases import Phrase, PhraseBuilder, PhraseIndex, WordList, word_list
from l2b2_dialogue.times import find_time

INTENTS = ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'goodbye', 'affirm', 'deny',
           'language_switch', 'staff_help', 'smalltalk', 'out_of_scope')
_LEXICON_INTENTS = tuple(i for i in INTENTS if i != 'escort')


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
    #: Two target ids to ask about ("zur Pass- und Ausweisstelle oder zum Abholterminal?"), or empty.
    clarify: list[str] = field(default_factory=list)
    #: Who decided: 'rules', 'learned' or 'both' (agreeing, or a two-choice question from both).
    source: str = 'rules'

    def as_dict(self) -> dict[str, Any]:
        out = {'intent': self.intent, 'target': self.target, 'confidence': round(self.confidence, 3),
               'language': self.language, 'slots': self.slots,
               'candidates': [[t, round(c, 3)] for t, c in self.candidates], 'source': self.source}
        if self.clarify:
            out['clarify'] = list(self.clarify)
        return out


class Understander:
    """Loads the catalog and the lexicon once; :meth:`understand` is then pure and fast."""

    def __init__(self, catalog: Catalog | None = None, lexicon_path: str | Path | None = None,
                 threshold: float = 0.6, default_language: str = 'de', learned: bool | str | LearnedModel = True):
        self.catalog = catalog or load_catalog()
        self.threshold = threshold
        self.policy = Policy(threshold=threshold)
        self.default_language = default_language
        self.lexicon: Lexicon = load_lexicon(lexicon_path)
        lex = self.lexicon.file
        self.blocked = self.lexicon.blocked
        self.target_index: dict[str, PhraseIndex] = {}
        self.intent_index: dict[str, PhraseIndex] = {}
        self.where: dict[str, set[str]] = {}
        self.ordinals: dict[str, list[str]] = {}
        self.function_words: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            self.target_index[lang] = self._target_phrases(lang)
            builder = PhraseBuilder()
            for intent in _LEXICON_INTENTS:
                for text in self.lexicon.intent_phrases(intent, lang):
                    # Intent words are not stemmed (a suffix may follow them): "nasılsın" (how are you) is not
                    # "nasıl" (how), "das wäre" is not "das war's".
                    builder.add(intent, text, lang, stem=False)
            endings = lex.inflection_endings.folded(lang) if lex.inflection_endings.of(lang) else None
            self.intent_index[lang] = PhraseIndex(builder.phrases, builder.aliases, partial=False, prefix=True,
                                                  prefix_endings=endings)
            self.where[lang] = {k for text in lex.where.of(lang) for w in tokens(text, lang) for k in word_keys(w, lang)}
            self.ordinals[lang] = [fold(w) for w in lex.ordinals.of(lang)]
            self.function_words[lang] = set(lex.function_words.folded(lang))
        #: Word lists of the rules below (any language counts: visitors mix them), as tuples of folded words.
        self.other_languages = word_list(lex.other_language_names)
        self.language_verbs = word_list(lex.language_verbs)
        self.days = word_list(lex.days)
        self.visit_words = word_list(lex.visit_words)
        self.open_words = word_list(lex.open_words)
        #: Of visit_words, those of coming by ("wann kann man beim Standesamt vorbeikommen": opening hours).
        self.come_words = WordList(p for p in self.visit_words if len(p[0]) >= 4)
        self.not_opening_hours = word_list(lex.not_opening_hours)
        self.booking_wish = word_list(lex.booking_wish)
        self.person_titles = {lang: {fold(w) for w in lex.person_titles.of(lang)} for lang in LANGUAGES}
        self.where_questions = lex.where_questions.folded()
        self.when_words = frozenset(w for w in lex.when_questions.folded() if ' ' not in w)
        self.when_phrases = tuple(sorted(w for w in lex.when_questions.folded() if ' ' in w))
        self.separable_prefixes = lex.separable_prefixes.folded()
        self.person_lead_words = lex.person_lead_words.folded('de')
        self.year_words = lex.year_words.folded()
        self.weak_language_requests = lex.weak_language_request_words.folded()
        self.foreign_nationalities = lex.foreign_nationalities.folded()
        self.problem_words = word_list(lex.problem_words)
        self.problem_suffixes = tuple(sorted(lex.problem_suffixes.folded()))
        unknown = sorted(t for pair in lex.staffed_alternative.items() for t in pair if t not in self.catalog.targets)
        if unknown:
            raise ConfigError(self.lexicon.path, 'staffed_alternative', f'unknown target id(s) {", ".join(unknown)}')
        self.staffed_alternative = dict(lex.staffed_alternative)
        self.language_detector = LanguageDetector(self._language_words())
        self.office_names = office_names(self.catalog)
        #: The learned layer (None: rules only); trained once per machine and cached (:mod:`l2b2_dialogue.learned`).
        #: ``learned='background'``: a cached model at once, else the rules alone until a background thread has
        #: trained it (a node starts at once even on a machine that has never trained it).
        self.model: LearnedModel | None = None
        if isinstance(learned, LearnedModel):
            self.model = learned
        elif learned == 'background':
            self.model = load_or_train(self.catalog, self.lexicon, train_if_missing=False)
            if self.model is None:
                threading.Thread(target=self._train_in_background, name='nlu-training', daemon=True).start()
        elif learned:
            self.model = load_or_train(self.catalog, self.lexicon)

    def _train_in_background(self) -> None:
        self.model = load_or_train(self.catalog, self.lexicon)  # one attribute assignment: atomic

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
        builder = PhraseBuilder(self.lexicon.stopwords)
        lex = self.lexicon.file
        # A word of another language that is a small word of this one ("died" stems to German "die") is left out.
        small = set(lex.function_words.folded(lang)) | set(self.lexicon.stopwords.get(lang, ()))
        for target_id, text, src_lang in raw:
            # Words of the other language still count (code-switching: "Ausländerbehörde nerede"),
            # but a little less than the visitor's own language.
            if src_lang != lang:
                text = ' '.join(w for w in tokens(text, src_lang)
                                if fold(w) not in small and stem_key(w, src_lang) not in small)
                if not text:
                    continue
            builder.add(target_id, text, src_lang, 1.0 if src_lang == lang else 0.9, drop_stopwords=True)
        # Specific words beat generic ones: a single word that is a keyword of several targets weighs less.
        owners: dict[str, set[str]] = defaultdict(set)
        for p in builder.phrases:
            if len(p.words) == 1:
                owners[p.words[0]].add(p.label)
        phrases = [Phrase(p.label, p.words, p.weight / len(owners[p.words[0]]) ** 0.5) if len(p.words) == 1 else p
                   for p in builder.phrases]
        return PhraseIndex(phrases, builder.aliases, partial=True, suffixing=lang == 'tr')

    def _language_words(self) -> dict[str, list[str]]:
        """Words that show a language: function and intent words, and the catalog's names and keywords."""
        words: dict[str, list[str]] = {lang: sorted(self.function_words[lang]) for lang in LANGUAGES}
        for lang in LANGUAGES:
            for intent in _LEXICON_INTENTS:
                words[lang] += self.lexicon.intent_phrases(intent, lang)
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
    def detect_language(self, text: str | Utterance, default: str = '') -> str:
        """de or tr (:mod:`l2b2_dialogue.langdet`); ``default`` (the conversation's language) on a tie."""
        default = default if default in LANGUAGES else self.default_language
        return self.language_detector.detect(as_utterance(text), default)

    def understand(self, text: str | Utterance, language: str = '') -> Understanding:
        """Intent, target, slots and confidence of one utterance; never raises on any input."""
        utterance = as_utterance(text)
        lang = language if language in LANGUAGES else self.detect_language(utterance)
        words = utterance.tokens(lang)
        folded = utterance.folded(lang)
        # Number words ("dokuz": nine) name no place, whatever their stem looks like ("dok" ~ "doğum").
        keys = [() if k[0] in self.blocked or _number_word(f) else k
                for k, f in zip((word_keys(w, lang) for w in words), folded, strict=False)]
        # Compounds split by the ASR ("personal ausweis") also match their joined form: keys[n + i] joins
        # words i and i+1.
        keys += [word_keys(a + b, lang) if (len(a) > 2 or a in self.separable_prefixes) and len(b) > 2 else ()
                 for a, b in zip(words, words[1:], strict=False)]
        slots: dict[str, Any] = {}
        when = find_time(utterance)
        if when:
            slots['time'] = when.text
        # The digits of a time are no booking number: "Termin um 10:30" is not booking 1030.
        number = booking_number(Utterance.from_cleaned(when.rest) if when else utterance)
        if number and not self._is_year(number, folded):
            slots['booking_number'] = number

        intent_cover = self.intent_index[lang].score_with_coverage(keys, exact_from=len(words))
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
        # The words that made it out of scope name no place unless they match a place better ("Schwerbehinderten-
        # ausweis" is no ID card; "Bushaltestelle" is the exit, not the bus): the place needs other words then.
        if 'out_of_scope' in intent_cover and target_scores:
            oos_score, oos_words = intent_cover['out_of_scope']
            oos_words = oos_words | {len(words) + i for i in range(len(words) - 1) if {i, i + 1} & oos_words}
            if not self.target_index[lang].score(keys, oos_words):
                as_place = max((q for pos in oos_words for q in self.target_index[lang].word_matches(keys[pos]).values()),
                               default=0.0)
                as_oos = max((q for pos in oos_words for q in self.intent_index[lang].word_matches(keys[pos]).values()),
                             default=0.0)
                if as_oos > as_place or oos_score > max(target_scores.values()):
                    target_scores = {}
            elif max(self.target_index[lang].score(keys, oos_words).values()) >= 0.8:
                # A place named besides ("im Bus meine Jacke vergessen", "the bank wants proof of my address"):
                # the out-of-scope word is only where it happened.
                del intent_scores['out_of_scope']
        if 'opening_hours' in intent_scores and self.not_opening_hours.found(folded):
            del intent_scores['opening_hours']  # "we are opening a kebab shop" asks no opening hours
        candidates = _candidates(target_scores)
        where = any(k in self.where[lang] for wkeys in keys for k in wkeys)
        queue_candidates = _candidates({t: v for t, v in target_scores.items()
                                        if self.catalog[t].scope_id is not None})
        intent, target, confidence = self._decide(keys, folded, intent_scores, candidates, queue_candidates, where,
                                                  slots, lang)
        if intent == 'language_switch':
            # A language the robot does not speak: it stays in the visitor's language (and says which it speaks).
            fallback = lang if slots.pop('unsupported_language', False) else other_language(lang)
            slots['language'] = self.lexicon.language_named(set(folded)) or fallback
        if intent == 'deny' and set(folded) & self.lexicon.thanks:
            slots['thanks'] = True
        ordinal = self._ordinal(lang, folded)
        if ordinal is not None:
            slots['ordinal'] = ordinal
        rules = Understanding(intent, target, round(confidence, 3), lang, slots, candidates[:3])
        model = self.model
        if model is None or not folded:
            return rules
        probs = dict(zip(model.labels, model.probabilities(utterance, lang).tolist(), strict=True))
        u = combine(rules, probs, self._named(folded, rules.target), self.policy)
        if u.intent in ('ticket', 'appointment_checkin') and u.target and self.catalog[u.target].scope_id is None:
            u = replace(u, target=None)  # a ticket or a check-in only for a place with a queue
        staffed = self.staffed_alternative.get(u.target) if u.intent == 'escort' else None
        if staffed and not u.clarify and self._reports_problem(folded):
            # "Der Automat nimmt meinen Code nicht", "the pickup terminal says my code is invalid" (named, but as
            # what fails): the machine may not help; ask whether the counter is wanted.
            u = replace(u, clarify=[staffed, u.target])
        if u.intent == 'language_switch' and 'language' not in u.slots:
            u.slots['language'] = self.lexicon.language_named(set(folded)) or other_language(lang)
        return replace(u, confidence=round(u.confidence, 3))

    def _is_year(self, number: str, folded: list[str]) -> bool:
        """"Heiratsurkunde von 1978", "born in 1985", "1985 yılında": a year, no booking number."""
        if len(number) != 4 or not 1900 <= int(number) <= 2099 or number not in folded:
            return False
        i = folded.index(number)
        return bool({*folded[max(0, i - 1):i], *folded[i + 1:i + 2]} & self.year_words)

    def _reports_problem(self, folded: list[str]) -> bool:
        """A word of trouble ("nicht", "invalid") or, in Turkish, a negated verb ("kabul etmiyor")."""
        return self.problem_words.found(folded) or any(w.endswith(self.problem_suffixes) for w in folded)

    def _named(self, folded: list[str], target: str | None) -> bool:
        """The visitor named the rules' target as an office ("Standesamt", "Pass- und Ausweisstelle")."""
        if target is None:
            return False
        words = set(folded)
        return any(set(name) <= words for name in self.office_names.get(target, ()))

    def _decide(self, keys, folded, intents, candidates, queue_candidates, where, slots, lang='de'):
        """The intent by fixed precedence; see docs/dialogue.md. ``folded``: the utterance's folded words."""
        top_target, target_conf = candidates[0] if candidates else (None, 0.0)
        n = max(1, len(folded))
        # The strongest intent; near-ties go by _FALLBACK_ORDER ("danke tschüss" is a goodbye).
        best_intent = None
        if intents:
            top = max(intents.values())
            best_intent = min((i for i, v in intents.items() if v >= top - 0.1), key=_FALLBACK_ORDER.index)
            if best_intent == 'greeting' and (intents.get('goodbye', 0.0) >= 0.5 or set(folded) & self.lexicon.thanks):
                best_intent = 'goodbye'  # "kolay gelsin, hoşçakalın", "teşekkürler, iyi günler": said on leaving
            if best_intent == 'smalltalk' and intents.get('goodbye', 0.0) >= 0.5 and set(folded) & self.lexicon.thanks:
                best_intent = 'goodbye'  # "thanks a lot, bye"

        def has(intent: str, minimum: float = 0.5) -> bool:
            return intents.get(intent, 0.0) >= minimum

        # Small request words ("in", "auf", "bitte") ask for a language only in a short request; a longer one
        # that names a place needs a language verb ("Our baby is German and needs a travel document": no switch).
        requests = set(folded) & self.lexicon.language_request_words
        asks_language = bool(requests - self.weak_language_requests) or (bool(requests) and n <= 5) \
            or self.language_verbs.found(folded)
        # In a longer sentence a language must be named as a whole word or asked about ("Germany" is no German).
        named_language = self.lexicon.language_named(set(folded)) is not None or self.language_verbs.found(folded)
        if has('language_switch') and ((asks_language and named_language) or (n <= 3 and top_target is None)
                                       or (self.language_verbs.found(folded) and target_conf < 0.9)):
            return 'language_switch', None, 0.95
        if self.other_languages.found(folded) and (self.language_verbs.found(folded) or n <= 4):
            # "sprichst du Arabisch": a language the robot does not speak; it answers in the visitor's own.
            slots['unsupported_language'] = True
            return 'language_switch', None, 0.9
        if has('out_of_scope') and intents['out_of_scope'] >= 0.9 * (candidates[0][1] if candidates else 0) * 1.5:
            return 'out_of_scope', None, 0.8
        joined = ' '.join(folded)
        no_appointment = any(p in joined for p in self.lexicon.no_appointment)
        asks_when = bool(self.when_words & set(folded)) or any(p in joined for p in self.when_phrases)
        if asks_when and (no_appointment or self.come_words.found(folded)):
            # "wann kann ich ohne Termin vorbeikommen", "wann kann man beim Standesamt vorbeikommen": when to come.
            return 'opening_hours', top_target if target_conf >= self.threshold else None, 0.8
        # "wo soll ich warten bis ich dran bin": a word of the queue with a place that has none (the waiting
        # area), asked where: that place.
        queue_less = bool(self.where_questions & set(folded)) and target_conf >= 0.9 and intents.get('ticket', 0.0) < 1.5 \
            and top_target not in {t for t, _ in queue_candidates}
        if no_appointment or (has('ticket') and not queue_less and 'booking_number' not in slots
                              and 'time' not in slots and intents['ticket'] >= intents.get('appointment_checkin', 0.0)):
            if no_appointment:
                slots['no_appointment'] = True
            return 'ticket', self._queue_target(queue_candidates, folded), 0.85
        # A time said with a queue word or alone ("ich bin um zehn Uhr dran", "half past two"): an appointment.
        # ("ich bin für 14 Uhr zur Ausländerbehörde bestellt": "zur" leads to a place, but only "wo" asks the way.)
        asks_where = bool(self.where_questions & set(folded))
        timed = 'time' in slots and not asks_when and (
            has('ticket') or (top_target is None and not has('opening_hours'))
            or (top_target is not None and not asks_where and not has('opening_hours')))
        wants_booking = top_target is not None and 'time' not in slots and self.booking_wish.found(folded)
        if 'booking_number' in slots or (has('appointment_checkin') and not wants_booking) or timed:
            return 'appointment_checkin', self._queue_target(queue_candidates, folded), 0.9
        if target_conf < 0.9 and self._asks_for_person(folded, lang):
            return 'staff_help', None, 0.8  # "Ist Herr Brandt heute im Haus?", "Is Ms. Becker working today?"
        # "Where is the machine that is open 24 hours?": a where-question to a place is the way there (asked at the
        # start, or at the end in Turkish: "die Stelle, wo man Geburtsurkunden bekommt" is no question of where).
        where_to_place = bool(self.where_questions & {*folded[:3], *folded[-2:]}) and top_target is not None \
            and not asks_when
        if has('opening_hours') and (top_target is None or intents['opening_hours'] >= 0.9) and not where_to_place:
            return 'opening_hours', top_target if target_conf >= self.threshold else None, 0.85
        # A day or part of the day with coming by or being open ("sind Sie Mittwoch nachmittag da", "ist das
        # Standesamt samstags zu"), no time of day: opening hours (of a named office: only with an open word).
        if 'time' not in slots and not where_to_place and self.days.found(folded) and (
                (top_target is None and self.visit_words.found(folded)) or self.open_words.found(folded)):
            return 'opening_hours', top_target if target_conf >= self.threshold else None, 0.8
        if asks_when and top_target is not None and 'time' not in slots and not asks_where:
            # "When is the lost and found staffed?": a question of when, about a place, is one of its hours.
            return 'opening_hours', top_target if target_conf >= self.threshold else None, 0.75
        if has('staff_help') and intents['staff_help'] >= intents.get('smalltalk', 0.0) \
                and (top_target is None or top_target == 'info' or intents['staff_help'] >= 1.5):
            return 'staff_help', None, 0.85
        if best_intent in ('smalltalk', 'greeting', 'goodbye') and intents.get(best_intent, 0.0) >= 1.6 \
                and target_conf < 0.9 and n <= 5:
            # A whole phrase of chat ("wie heißt du eigentlich") beats a weak guess at a place.
            return best_intent, None, 0.85
        if top_target == 'pass_ausweis' and set(folded) & self.foreign_nationalities:
            slots['foreign_state'] = True  # "mein türkischer Reisepass": its consulate's, not this office's
            return 'out_of_scope', None, 0.8
        if top_target is not None:
            conf = target_conf * (1.0 if where or n <= 6 else 0.95)
            return 'escort', top_target, conf
        if best_intent in ('goodbye', 'greeting', 'smalltalk', 'affirm', 'deny', 'out_of_scope', 'staff_help',
                           'opening_hours'):
            # Affirm/deny words inside a longer sentence ("nein, ich suche ...") only count in short answers.
            if best_intent in ('affirm', 'deny') and n > 5:
                return 'out_of_scope', None, 0.4
            return best_intent, None, min(1.0, 0.7 + 0.3 * intents.get(best_intent, 1.0))
        # Words the lexicon does not know at all: confidently out of scope; nothing at all: no confidence.
        return 'out_of_scope', None, 0.5 if keys else (0.9 if folded else 0.0)

    def _asks_for_person(self, folded: list[str], lang: str) -> bool:
        """A title with a name: "zu Frau Schneider", "Ms Schneider", "Ayşe Hanım'la"."""
        small = self.function_words[lang] | set(self.lexicon.stopwords.get(lang, ()))
        for i, w in enumerate(folded):
            if lang == 'tr':
                if i > 0 and folded[i - 1] not in small and any(w.startswith(t) and len(w) <= len(t) + 4
                                                                for t in self.person_titles['tr']):
                    return True
            elif w in self.person_titles.get(lang, ()) and i + 1 < len(folded) and folded[i + 1] not in small \
                    and (lang != 'de' or w == 'herrn' or i == 0 or folded[i - 1] in self.person_lead_words):
                return True
        return False

    def _queue_target(self, candidates: list[tuple[str, float]], folded: list[str]) -> str | None:
        """The department a ticket or appointment is for (only targets with a queue compete); None if unsure."""
        if not candidates or candidates[0][1] < self.threshold:
            return None
        # Sure, or clearly ahead of the next and named or nearly sure ("Passport appointment at 11:20", "um elf
        # beim Standesamt eingeladen").
        (top, score), runner_up = candidates[0], candidates[1][1] if len(candidates) > 1 else 0.0
        clearly_ahead = score - runner_up >= 0.2 and (score >= 0.75 or self._named(folded, top))
        return top if score >= 0.8 or clearly_ahead else None

    def _ordinal(self, lang: str, folded: list[str]) -> int | None:
        """"die zweite", "ikincisi": which of the offered candidates (0-based); inflections match by prefix."""
        for i, ordinal in enumerate(self.ordinals[lang]):
            if any(w.startswith(ordinal) and len(w) <= len(ordinal) + 4 for w in folded):
                return i
        return None

    def name_from_text(self, text: str | Utterance, max_words: int = 4) -> str:
        """The (sur)name a visitor says or types: "mein Name ist Erika Mustermann" → "Erika Mustermann"."""
        return name_in(as_utterance(text), self.lexicon.name_fillers, max_words)


def _number_word(folded_word: str) -> bool:
    return not folded_word.isdigit() and folded_word not in _WEAK_NUMBERS and word_value(folded_word) is not None


#: Number words that are also ordinary words ("ein Pass", "bir kimlik", "on" = ten / English "on").
_WEAK_NUMBERS = frozenset({'ein', 'eine', 'einen', 'bir', 'on'})

_FALLBACK_ORDER = ('language_switch', 'appointment_checkin', 'ticket', 'goodbye', 'staff_help', 'opening_hours',
                   'greeting', 'deny', 'affirm', 'out_of_scope', 'smalltalk')


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


def load_understander(threshold: float = 0.6, catalog_path: str | None = None) -> Understander:
    """An Understander over the default (or given) catalog; ConfigError names file and key on problems."""
    return Understander(load_catalog(catalog_path), threshold=threshold)

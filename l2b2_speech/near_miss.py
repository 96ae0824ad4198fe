"""Near-miss repair of transcripts: words the recognizer almost got right become the office's words again.

Whisper-base writes espeak-ng (and accented) speech with near misses of exactly the words that matter here:
"Passtille" for *Passstelle*, "Standes amt" for *Standesamt*, Turkish "nüfüs" for *nüfus*, "kimlig" for
*kimlik*, "pasa port" for *pasaport*. :class:`NearMissRepairer` maps such a word, or two or three adjacent
words written apart, back to a word of the vocabulary when

* its **phonetic key** equals the vocabulary word's key — German: Kölner Phonetik (:func:`cologne`);
  Turkish: :func:`turkish_key` (voiced/unvoiced pairs and vowel-harmony variants merged); English:
  :func:`english_key` (a small Metaphone-like key) — **and**
* it is **close in spelling**: a Levenshtein similarity ≥ :data:`MIN_RATIO` (joined words:
  :data:`MIN_JOIN_RATIO`) and at most ``max(1, ...)`` edits for the length (:func:`close_enough`).

It never touches a word that is itself a known word (the vocabulary, every word of the dialogue's lexicon,
the robot's own sentences in ``config/responses_<lang>.yaml``, :data:`COMMON_WORDS` and the language's spelling
dictionary, :data:`DICTIONARY_FILES`), an inflected form of a vocabulary word, a word shorter than
:data:`MIN_WORD_LEN`, or anything with a digit, and it never writes a number word (a booking or waiting number
must stay what was heard). Adjacent words that are all real words are joined only into the same spelling
("Personal aus weiß"), never into another word ("noch kommen" is not "nachkommen"), and never when the lexicon
or the robot's sentences have them as a phrase. The result is idempotent: a repaired word is a vocabulary word.

The vocabulary is :func:`l2b2_speech.grammar.grammar_phrases` (department names, services, keywords from
``config/departments.yaml``, the lexicon's intent phrases, where-words, ordinals, frame phrases): the words
the Vosk grammar and the Whisper prompt already use. Pure Python, no ROS; building takes ~1-2 s (mostly
reading the dictionaries), repairing a sentence ~0.1 ms.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
import re
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

from l2b2_dialogue.normalize import lower  # Turkish dotted and dotless I, as the dialogue lowers text

#: Shortest word that may be repaired (or be the result of a single-word repair): short words have too
#: many neighbours ("Dach" / "Tag").
MIN_WORD_LEN = 4
#: Spelling similarity (1 - edits / longer length) a single word needs to be replaced.
MIN_RATIO = 0.7
#: The same for two or three adjacent words joined (they are compared without the space).
MIN_JOIN_RATIO = 0.8
#: A join needs a vocabulary word at least this long ("Fund büro" -> "Fundbüro", not "an da" -> "anda").
MIN_JOIN_LEN = 6
#: Up to how many adjacent words are joined.
MAX_JOIN = 3

#: Number words are never written by the repair (a heard "vier" stays whatever was heard).
NUMBER_WORDS: dict[str, frozenset[str]] = {
    'de': frozenset('null eins zwei zwo drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig '
                    'vierzig fünfzig hundert tausend'.split()),
    'tr': frozenset('sıfır bir iki üç dört beş altı yedi sekiz dokuz on yirmi otuz kırk elli yüz bin'.split()),
    'en': frozenset('zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty '
                    'fifty hundred thousand'.split()),
}

#: Everyday words of each language that are never "repaired" even when they sound like an office word
#: (the lexicon and the robot's own sentences add many more; these are the frequent ones they may lack).
COMMON_WORDS: dict[str, frozenset[str]] = {
    'de': frozenset("""
        aber alle allem allen aller alles als also alt alte alten am an andere anderen anders auch auf aus bei
        beim bin bis bist bitte bleiben bleibt da dabei dafür daher damit dann darf das dass dem den denn der
        des dich die dies diese diesem diesen dieser dir doch dort du durch eben ein eine einem einen einer
        eines er es etwas euch euer für gab ganz gar geben gegen geht gehen gibt gut gute guten hab habe haben
        hat hatte hatten heute hier hin ihm ihn ihnen ihr ihre im immer in ins ist ja jede jeden jeder jetzt
        kann kannst kein keine keinen können könnte lang lange machen macht mal man mehr mein meine meinem
        meinen meiner mich mir mit morgen muss müssen nach nein nicht nichts noch nun nur ob oder ohne schon
        sehr sein seine seit sich sie sind so soll sollen sollte sondern über um und uns unser unter viel
        viele vom von vor war waren warum was weg weil weiß weit welche welcher wenn wer werden wie wieder
        will wir wird wo wohl wollen würde zu zum zur zwischen
        stelle stellen stadt staat land haus amt ämter platz raum zimmer tür treppe stock etage gang halle
        frau herr mann kind kinder familie name namen straße weg tag tage woche monat jahr zeit uhr stunde
        minute geld brief papier karte foto bild buch heft sache sachen frage fragen antwort hilfe arbeit
        stunden leute mensch menschen bus bahn auto rad fahrrad hund katze wasser essen trinken kaffee
        sagen sagte gesagt sehen sieht gesehen kommen kommt gekommen gehen ging gegangen stehen steht holen
        abholen bringen bringt brauche brauchen braucht suche suchen sucht finden finde findet wissen weiß
        warten wartet fragen fragt zahlen zahle bezahlen melden meldet anmelden abmelden ummelden heiraten
        neu neue neuen neuer alt klein kleine groß große gleich bald schnell langsam richtig falsch schön
        danke hallo tschüss okay genau gerne gern leider vielleicht natürlich bitteschön entschuldigung
        mais weiß weise reise reisen kasse kosten kostet schalter automat automaten nummer nummern
    """.split()),
    'tr': frozenset("""
        ve ile ama fakat çünkü için gibi kadar daha çok az en her hiç bu şu o bunu şunu onu bunlar onlar ben
        sen biz siz beni seni bizi sizi bana sana bize size benim senin bizim sizin ne neden nasıl nerede
        nereye kim kimin hangi evet hayır var yok değil mi mı mu mü da de ki bile şimdi sonra önce bugün
        yarın dün burada orada şurada bir iki üç tamam lütfen teşekkür teşekkürler merhaba günaydın iyi kötü
        büyük küçük yeni eski uzun kısa sol sağ yukarı aşağı kat kapı oda yer ev iş okul araba otobüs para
        kart kağıt belge form adım adı isim soyadı anne baba çocuk kız oğlan kadın erkek eş aile arkadaş
        gün hafta ay yıl saat dakika zaman istiyorum istiyoruz lazım gerek gerekiyor olur olmaz oldu olacak
        yap yapmak yapıyorum gel gelmek geldim git gitmek gidiyorum al almak aldım ver vermek verdim bak
        bakmak söyle söylemek biliyor bilmiyorum anladım anlamadım yardım yardımcı doğru yanlış kayıp buldum
        kaybettim evlilik evlenmek doğum ölüm taşınmak taşındım adres şehir belediye ofis masa sıra numara
    """.split()),
    'en': frozenset("""
        a about after again all also am an and any are as at be because been before but by can could did do
        does for from get go going good has have he her here him his how i if in into is it its just know
        like me more my need no not now of on one or our out please right she so some than thank thanks that
        the their them then there these they this time to up us want was we well were what when where which
        who will with would yes you your day week month year office room floor door stairs desk paper card
        money name city street help work find lost found pass place state station stand still
    """.split()),
}

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_JOINABLE_GAP = re.compile(r'[ \t-]+')


def upper_first(word: str, language: str) -> str:
    first = word[:1]
    if language == 'tr':
        first = {'i': 'İ', 'ı': 'I'}.get(first, first)
    return first.upper() + word[1:]


# --- German: Kölner Phonetik ------------------------------------------------------------------------------

_DE_FOLD = str.maketrans({'ä': 'a', 'ö': 'o', 'ü': 'u', 'ß': 's', 'é': 'e', 'è': 'e', 'à': 'a'})
_DE_SIMPLE = {**dict.fromkeys('aeijouy', '0'), 'b': '1', 'f': '3', 'v': '3', 'w': '3', 'g': '4', 'k': '4',
              'q': '4', 'l': '5', 'm': '6', 'n': '6', 'r': '7', 's': '8', 'z': '8'}


def cologne(word: str) -> str:
    """Kölner Phonetik (Postel 1969): the digit code of a German word ("Müller", "Mueller" -> "657").

    Letters map to digits by context (C before a/h/k/o/q/u/x is 4, else 8; D/T before c/s/z is 8; P before
    h is 3; X is 48 except after c/k/q), repeated digits collapse and every 0 but an initial one is dropped.
    """
    s = [c for c in word.lower().translate(_DE_FOLD) if c.isalpha()]
    codes: list[str] = []
    for i, c in enumerate(s):
        prev = s[i - 1] if i else ''
        nxt = s[i + 1] if i + 1 < len(s) else ''
        if c in _DE_SIMPLE:
            code = _DE_SIMPLE[c]
        elif c == 'h':
            code = ''
        elif c == 'p':
            code = '3' if nxt == 'h' else '1'
        elif c in 'dt':
            code = '8' if nxt in ('c', 's', 'z') and nxt else '2'
        elif c == 'c':
            if i == 0:
                code = '4' if nxt in 'ahkloqrux' and nxt else '8'
            else:
                code = '4' if nxt in 'ahkoqux' and nxt and prev not in ('s', 'z') else '8'
        elif c == 'x':
            code = '8' if prev in ('c', 'k', 'q') and prev else '48'
        else:
            code = ''
        codes.append(code)
    collapsed: list[str] = []
    for code in ''.join(codes):
        if not collapsed or collapsed[-1] != code:
            collapsed.append(code)
    if not collapsed:
        return ''
    return collapsed[0] + ''.join(c for c in collapsed[1:] if c != '0')


# --- Turkish -----------------------------------------------------------------------------------------------

#: One class per letter: voiced/unvoiced pairs merged (b/p, c/ç, d/t, g/k/ğ, v/f, z/s, j/ş), vowels by
#: harmony group (a/e, ı/i/u/ü, o/ö), h silent (dropped), â î û as their plain vowels.
_TR_CLASS = {**dict.fromkeys('ae', 'A'), **dict.fromkeys('âê', 'A'), **dict.fromkeys('ıiuüîû', 'I'),
             **dict.fromkeys('oöô', 'O'), **dict.fromkeys('bp', 'P'), **dict.fromkeys('cç', 'C'),
             **dict.fromkeys('dt', 'T'), **dict.fromkeys('gkğq', 'K'), **dict.fromkeys('vfw', 'F'),
             **dict.fromkeys('zs', 'S'), **dict.fromkeys('şj', 'J'), 'h': '', 'x': 'KS',
             'l': 'L', 'm': 'M', 'n': 'N', 'r': 'R', 'y': 'Y'}


def turkish_key(word: str) -> str:
    """A phonetic key for Turkish: each letter's class (:data:`_TR_CLASS`), repeats collapsed.

    Whisper's Turkish near misses are mostly a voiced for an unvoiced consonant ("kimlig"), the other vowel
    of a harmony group ("nüfüs", "ikametgâh") or a German spelling of the same sound: all give one key.
    Vowels are kept (as their group), unlike Kölner Phonetik: Turkish roots are short and vowel-rich.
    """
    out: list[str] = []
    for c in lower(word, 'tr'):
        for k in _TR_CLASS.get(c, ''):
            if not out or out[-1] != k:
                out.append(k)
    return ''.join(out)


# --- English -----------------------------------------------------------------------------------------------

_EN_RULES = (('tch', 'x'), ('sch', 'sk'), ('ph', 'f'), ('th', '0'), ('sh', 'x'), ('ch', 'x'), ('ck', 'k'),
             ('gh', ''), ('dg', 'j'), ('wh', 'w'), ('ce', 's'), ('ci', 's'), ('cy', 's'), ('c', 'k'), ('q', 'k'),
             ('x', 'ks'), ('z', 's'), ('v', 'f'), ('d', 't'), ('g', 'k'), ('b', 'p'))


def english_key(word: str) -> str:
    """A small Metaphone-like key: silent initial letters dropped (kn, gn, pn, wr), digraphs to one sound,
    voiced stops merged with unvoiced ones, vowels (and h, w, y not before a vowel) dropped after the first
    letter, repeats collapsed ("office", "ofice", "offise" -> "AFS")."""
    w = ''.join(c for c in word.lower() if 'a' <= c <= 'z')
    if w[:2] in ('kn', 'gn', 'pn', 'wr'):
        w = w[1:]
    out: list[str] = []
    i = 0
    while i < len(w):
        for pattern, sound in _EN_RULES:
            if w.startswith(pattern, i):
                piece, step = sound, (len(pattern) if sound != 's' or pattern[0] != 'c' else 1)
                break
        else:
            c, nxt = w[i], w[i + 1] if i + 1 < len(w) else ''
            if c in 'aeiou':
                piece = 'A' if i == 0 else ''
            elif c in 'hwy':
                piece = c if nxt in tuple('aeiou') and nxt else ''
            else:
                piece = c
            step = 1
        for k in piece:
            if not out or out[-1] != k:
                out.append(k)
        i += step
    return ''.join(out)


PHONETIC_KEYS: dict[str, Callable[[str], str]] = {'de': cologne, 'tr': turkish_key, 'en': english_key}


def close_enough(word: str, target: str, min_ratio: float) -> bool:
    """Spelling close for its length: similarity ≥ ``min_ratio`` and at most one edit per
    ``1 / (1 - min_ratio)`` letters, never fewer than one (a 4-letter word may differ in one letter)."""
    longest = max(len(word), len(target))
    edits = Levenshtein.distance(word, target)
    return edits <= max(1, int((1.0 - min_ratio) * longest + 1e-9)) and 1.0 - edits / longest >= min_ratio - 1e-9


_SPELLING_FOLD = str.maketrans({'ß': 's', 'ä': 'a', 'ö': 'o', 'ü': 'u', 'ç': 'c', 'ğ': 'g', 'ı': 'i', 'ş': 's',
                                'â': 'a', 'î': 'i', 'û': 'u', 'é': 'e'})


def spelling(word: str) -> str:
    """The word without spelling variants: diacritics and ß folded, doubled letters single
    ("personalausweiß" and "personalausweis", "passstelle" and "pastele" alike)."""
    folded = word.translate(_SPELLING_FOLD)
    return ''.join(c for i, c in enumerate(folded) if i == 0 or c != folded[i - 1])


def _inflection(word: str, target: str) -> bool:
    """One is the other plus an ending ("schöne" / "schön", "kimliği" / "kimlik" is not: that is a mutation):
    an inflected or suffixed form of a vocabulary word is a real word, not a near miss."""
    return word.startswith(target) or target.startswith(word)


def words_of(texts: Iterable[str], language: str) -> set[str]:
    return {lower(w, language) for t in texts for w in _WORD.findall(t) if not any(c.isdigit() for c in w)}


def word_ngrams(texts: Iterable[str], language: str, longest: int) -> set[str]:
    """Every run of 2 to ``longest`` adjacent words of ``texts``, lower case, joined by one space."""
    out: set[str] = set()
    for text in texts:
        words = [lower(w, language) for w in _WORD.findall(text)]
        for n in range(2, longest + 1):
            out.update(' '.join(words[i:i + n]) for i in range(len(words) - n + 1))
    return out


class SpellingDictionary:
    """A spelling dictionary's words (one per line; hunspell's ``/flags`` dropped), lower case, kept as the
    sorted hashes of the words (8 bytes a word: ~7 MB for the three languages instead of ~80 MB as a set of
    strings); a question is a binary search (~10 µs). The hashes are this process's ``hash()``, so a list is
    only asked in the process that built it (a clash of two 64-bit hashes is left to chance, ~1e-13)."""

    def __init__(self, texts: Iterable[str], language: str):
        words = lower('\n'.join(_FLAGS.sub('', t) for t in texts), language).split()
        self._hashes = np.unique(np.fromiter((hash(w) for w in words), dtype=np.int64, count=len(words)))

    def __contains__(self, word: str) -> bool:
        h = hash(word)
        i = int(np.searchsorted(self._hashes, h))
        return i < self._hashes.size and int(self._hashes[i]) == h

    def __len__(self) -> int:
        return int(self._hashes.size)


_FLAGS = re.compile(r'/[^\n]*')

#: Spelling dictionaries from Debian packages (requirements/apt-speech.txt): wngerman and hunspell-de-de
#: (the word list lacks many base forms, "Stelle", "Mauer"; hunspell's stems have them), hunspell-tr (full
#: forms and stems), wamerican. A missing file only weakens the protection of ordinary words.
DICTIONARY_FILES: dict[str, tuple[str, ...]] = {
    'de': ('/usr/share/dict/ngerman', '/usr/share/hunspell/de_DE.dic'),
    'tr': ('/usr/share/hunspell/tr_TR.dic',),
    'en': ('/usr/share/dict/american-english',),
}


def load_dictionary(language: str, files: Iterable[str] | None = None) -> SpellingDictionary | None:
    """The language's spelling dictionary from the files that exist, or None when there is none."""
    texts = []
    for path in DICTIONARY_FILES.get(language, ()) if files is None else files:
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                texts.append(f.read())
        except OSError:
            continue
    return SpellingDictionary(texts, language) if texts else None


def _strings_for(node: Any, language: str, inside: bool = False) -> Iterable[str]:
    """Every string under a ``language`` key of a parsed YAML tree (the lexicon's sections)."""
    if isinstance(node, str):
        if inside:
            yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings_for(value, language, inside or key == language)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _strings_for(value, language, inside)


class NearMissRepairer:
    """Repairs near-miss words of transcripts in the languages it was built for (others pass unchanged)."""

    def __init__(self, vocabulary: Mapping[str, Iterable[str]], known: Mapping[str, Iterable[str]] | None = None,
                 *, dictionaries: Mapping[str, SpellingDictionary] | None = None, min_ratio: float = MIN_RATIO,
                 min_join_ratio: float = MIN_JOIN_RATIO):
        """``vocabulary``: language -> phrases whose words are repair targets; ``known``: language -> texts
        whose words are never changed and whose word pairs and triples are never joined (the vocabulary's words
        and :data:`COMMON_WORDS` are always known); ``dictionaries``: language -> a spelling dictionary whose
        words are never changed either."""
        self.min_ratio, self.min_join_ratio = min_ratio, min_join_ratio
        self.targets: dict[str, dict[str, list[str]]] = {}
        self.known: dict[str, frozenset[str]] = {}
        self.dictionaries: dict[str, SpellingDictionary] = dict(dictionaries or {})
        self.phrases: dict[str, frozenset[str]] = {}
        for language, phrases in vocabulary.items():
            key = PHONETIC_KEYS.get(language)
            if key is None:
                continue
            words = words_of(phrases, language)
            by_key: dict[str, list[str]] = defaultdict(list)
            for w in sorted(words):
                if len(w) >= MIN_WORD_LEN and w not in NUMBER_WORDS.get(language, ()) and "'" not in w:
                    by_key[key(w)].append(w)
            self.targets[language] = dict(by_key)
            texts = [*phrases, *(known or {}).get(language, ())]
            self.known[language] = frozenset(words_of(texts, language) | COMMON_WORDS.get(language, frozenset())
                                             | NUMBER_WORDS.get(language, frozenset()))
            self.phrases[language] = frozenset(word_ngrams(texts, language, MAX_JOIN))
        self._target_sets = {lang: frozenset(w for ws in by_key.values() for w in ws)
                             for lang, by_key in self.targets.items()}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def is_known(self, word: str, language: str) -> bool:
        """A word of the vocabulary, the lexicon, the robot's sentences, the common words or the dictionary."""
        if word in self.known[language]:
            return True
        dictionary = self.dictionaries.get(language)
        return dictionary is not None and word in dictionary

    def best(self, word: str, language: str, min_ratio: float) -> str | None:
        """The vocabulary word ``word`` (lower case) is a near miss of, or None."""
        candidates = self.targets[language].get(PHONETIC_KEYS[language](word), ())
        same = spelling(word)
        scored = [(spelling(c) == same, Levenshtein.normalized_similarity(word, c), -abs(len(c) - len(word)), c)
                  for c in candidates if c != word and close_enough(word, c, min_ratio)
                  and (spelling(c) == same or not _inflection(word, c))]
        return max(scored)[-1] if scored else None

    def repairs(self, text: str, language: str) -> list[tuple[str, str]]:
        """The (heard, written) pairs :meth:`repair` would apply."""
        return self._repair(text, language)[1]

    def repair(self, text: str, language: str) -> str:
        """``text`` with near-miss words replaced by vocabulary words; unchanged for other languages."""
        return self._repair(text, language)[0]

    def _repair(self, text: str, language: str) -> tuple[str, list[tuple[str, str]]]:
        if language not in self.targets or not text:
            return text, []
        known = self.known[language]
        matches = list(_WORD.finditer(text))
        out: list[str] = []
        changes: list[tuple[str, str]] = []
        pos = 0
        i = 0
        while i < len(matches):
            replaced = None
            for n in range(min(MAX_JOIN, len(matches) - i), 1, -1):  # joins first, longest first
                group = matches[i:i + n]
                if not all(_JOINABLE_GAP.fullmatch(text[a.end():b.start()]) for a, b in pairwise(group)):
                    continue
                parts = [lower(m.group(), language) for m in group]
                if any(not p.isalpha() for p in parts):
                    continue
                joined = ''.join(parts)
                targets = self._target_sets[language]
                if len(joined) < MIN_JOIN_LEN or (joined in known and joined not in targets) \
                        or ' '.join(parts) in self.phrases[language]:  # "hoşça kal", "to register": as meant
                    continue
                target = joined if joined in targets else self.best(joined, language, self.min_join_ratio)
                if target is None or len(target) < MIN_JOIN_LEN or target[0] != joined[0]:
                    continue  # "äh umgezogen" is not "umgezogen"
                if spelling(target) != spelling(joined) and all(self.is_known(p, language) for p in parts):
                    continue  # real words ("passport is", "noch kommen") join only into the same spelling
                replaced = (n, target)
                break
            if replaced is None:
                word = lower(matches[i].group(), language)
                if len(word) >= MIN_WORD_LEN and word.isalpha() and word not in known:
                    target = self.best(word, language, self.min_ratio)
                    if target is not None and not self.is_known(word, language):
                        replaced = (1, target)
            if replaced is None:
                i += 1
                continue
            n, target = replaced
            first, last = matches[i], matches[i + n - 1]
            heard = text[first.start():last.end()]
            written = upper_first(target, language) if heard[:1].isupper() else target
            out.append(text[pos:first.start()])
            out.append(written)
            changes.append((heard, written))
            pos = last.end()
            i += n
        out.append(text[pos:])
        return ''.join(out), changes


def office_repairer(languages: Iterable[str]) -> NearMissRepairer:
    """The repairer for ``languages`` from this office's catalog and the dialogue's lexicon (as the Vosk
    grammar and the Whisper prompt use them), with the lexicon's and the robot's own sentences' words known."""
    from l2b2_common.config import ConfigError, config_path, load_yaml
    from l2b2_speech.grammar import grammar_phrases, load_lexicon

    lexicon = load_lexicon()
    vocabulary: dict[str, list[str]] = {}
    known: dict[str, list[str]] = {}
    for language in languages:
        if language not in PHONETIC_KEYS:
            continue
        vocabulary[language] = grammar_phrases(language, lexicon=lexicon)
        texts = list(_strings_for(lexicon, language))
        try:
            responses = load_yaml(config_path(f'responses_{language}.yaml')) or {}
            texts += [t for t in (responses.get('texts') or {}).values() if isinstance(t, str)]
        except ConfigError:
            pass  # a language without robot sentences: the lexicon and the common words still protect
        known[language] = texts
    dictionaries = {lang: d for lang in vocabulary if (d := load_dictionary(lang)) is not None}
    return NearMissRepairer(vocabulary, known, dictionaries=dictionaries)

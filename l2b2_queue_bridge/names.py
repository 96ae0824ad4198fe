"""The name check of a look-up: a visitor's spoken or typed name folded (case, accents, umlauts, the Turkish
letters, punctuation) and matched against the surname the booking holds.

Kept apart from ``client`` because it is pure text handling with its own rules and tests (issue 17); the
client uses it to check a name and to remember, hashed, the surname forms that match. No ROS import.
"""
from __future__ import annotations

import re
import unicodedata

#: Umlauts written out ("Mueller") fold like the umlaut and the plain vowel ("Müller", "Muller").
_FOLD_PAIRS = (('ae', 'a'), ('oe', 'o'), ('ue', 'u'))


def normalise_name(text: str) -> str:
    """The folded words of a name: 'Ayşe  YILMAZ', 'ayse yilmaz' and 'Müller-Lüdenscheid' / 'Mueller Ludenscheid'
    compare equal.

    Case (``casefold``, so ``ß`` = ``ss``), accents and umlauts (``ü`` = ``ue`` = ``u``), the Turkish letters
    (``ı``/``İ`` = ``i``, ``ş`` = ``s``, ``ğ`` = ``g``, ``ç`` = ``c``), apostrophes (``O'Brien`` = ``OBrien``),
    hyphens and other punctuation (a word break) and extra spaces do not count."""
    text = re.sub(r"['\u2019`´]", '', text).replace('ı', 'i').replace('İ', 'I')
    text = unicodedata.normalize('NFKD', text)
    text = ''.join(c for c in text if not unicodedata.combining(c)).casefold()
    words = []
    for word in re.sub(r'[\W_]+', ' ', text).split():
        for pair, single in _FOLD_PAIRS:
            word = word.replace(pair, single)
        words.append(word)
    return ' '.join(words)


def booking_words(name: str) -> list[str]:
    """A booking's name as words in the order given name(s), surname ("Mustermann, Erika" is turned round)."""
    surname, comma, given = name.partition(',')
    return normalise_name(f'{given} {surname}' if comma else name).split()


def names_match(given: str, client_names: tuple[str, ...]) -> bool:
    """The name the visitor gives ends with the surname as the booking holds it: a first name alone never matches.

    Words are compared folded (:func:`normalise_name`). The last word given must be the last word of the
    booking's name: its surname, or the surname's last part ("Berg" for "van der Berg", "Lüdenscheid" for
    "Müller-Lüdenscheid"; "Mustermann, Erika" is read as "Erika Mustermann"). Words before it are not checked
    (a first name, a title, a word the dialogue took along: the surname is what proves the booking), but only
    the last word counts, so one look-up tries one surname. The booking's last words written as one also
    match ("Vanderberg", "Müllerlüdenscheid").
    """
    wanted = normalise_name(given).split()
    if not wanted:
        return False
    for name in client_names:
        words = booking_words(name)
        if words and (wanted[-1] == words[-1]
                      or any(''.join(wanted) == ''.join(words[-k:]) for k in range(2, len(words) + 1))):
            return True
    return False

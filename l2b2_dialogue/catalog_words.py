"""Words of the catalog as the understanding uses them: office names, and every name and keyword per language.

Also the visitor's name in a check-in answer ("mein Name ist Erika Mustermann"): the words left when the
lexicon's fillers are dropped.
"""
from __future__ import annotations

from functools import lru_cache

from l2b2_common.catalog import Catalog
from l2b2_dialogue.lexicon import load_lexicon
from l2b2_dialogue.normalize import Utterance, as_utterance, fold, tokens

#: A keyword that is the name of an office: it ends like one (German compounds, Turkish and English names).
_OFFICE_ENDINGS = ('amt', 'stelle', 'behorde', 'buro', 'burosu', 'dairesi', 'terminal', 'theke', 'kasse', 'office',
                   'desk', 'veznesi', 'danisma', 'subesi')


def office_names(catalog: Catalog) -> dict[str, list[tuple[str, ...]]]:
    """Per target: its names (every language) and the keywords that name it as an office, as folded words."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for target in catalog.targets.values():
        texts = list(target.name.values())
        texts += [k for words in target.keywords.values() for k in words if fold(k.lower()).endswith(_OFFICE_ENDINGS)]
        names = {tuple(fold(w) for w in tokens(t)) for t in texts}
        out[target.id] = sorted(n for n in names if n)
    return out


def catalog_texts(catalog: Catalog, lang: str) -> list[str]:
    """Every name and keyword of the catalog's targets and services in one language."""
    out: list[str] = []
    for target in catalog.targets.values():
        out += [target.name.get(lang, ''), *target.keywords.get(lang, ())]
        for service in target.services:
            out += [service.name.get(lang, ''), *service.keywords.get(lang, ())]
    return [t for t in out if t]


def name_in(utterance: Utterance, fillers: frozenset[str], max_words: int) -> str:
    words = [w for w in utterance.tokens() if w not in fillers and not w.isdigit() and len(w) > 1]
    return ' '.join(w.capitalize() for w in words[:max_words])


@lru_cache(maxsize=1)
def _default_name_fillers() -> frozenset[str]:
    return load_lexicon().name_fillers


def name_from_text(text: str | Utterance, max_words: int = 4) -> str:
    """The (sur)name in ``text``, with the default lexicon's fillers (see :meth:`Understander.name_from_text`)."""
    return name_in(as_utterance(text), _default_name_fillers(), max_words)

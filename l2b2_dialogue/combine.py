"""Rules and the learned model together: one answer with a calibrated confidence, or a two-choice question.

The rules (:mod:`l2b2_dialogue.nlu`) are exact where the catalog or lexicon names a thing, and say so
with a high confidence; the learned model (:mod:`l2b2_dialogue.learned`) generalises to words nobody
listed, with a probability per label. Policy, in order:

1. **Named explicitly wins**: when the visitor names a department (its name, or a keyword that is a name
   of the office such as "Standesamt") and the rules chose it, the department stands, never
   second-guessed (only a sure model may say the visitor asks for its opening hours, a ticket or a
   check-in there). A language switch, a booking number (a check-in), "I have no appointment" (a
   ticket) and another state's passport (out of scope) stand as well.
2. **Agreement**: both choose the same label: confidence is the higher of the two.
3. **The rules are unsure** (below the threshold, or "out of scope" only because no word was known): the
   model's label is taken when its probability reaches ``learned_min``.
4. **Both sure, but of different places**: ask which of the two. Of different intents: the model's, when
   it is sure (``dispute``) and gives the rules' answer almost no chance (``dispute_floor``).
5. **Close call between two places** (the best two within ``margin``, the best below the threshold, or
   rules and model together ranking another place above the rules' one): ask which of the two
   (``clarify``: two target ids, best first).

Everything else keeps the rules' answer. Pure functions, no ROS.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from l2b2_dialogue.learned import label_of

#: Intents decided by rules alone (a word list is exact, a model would only blur it).
RULE_INTENTS = ('language_switch',)
#: Intents that may name a place besides escorting there.
TARGET_INTENTS = ('opening_hours', 'ticket', 'appointment_checkin')


@dataclass(frozen=True)
class Policy:
    threshold: float = 0.6
    #: The model's probability needed to overrule unsure rules.
    learned_min: float = 0.5
    #: Two places closer than this (combined confidence) are asked about.
    margin: float = 0.2
    #: The model must be this sure of another label to overrule sure rules ...
    dispute: float = 0.75
    #: ... and give the rules' label less than this.
    dispute_floor: float = 0.1
    #: The model this sure of another place (and the rules' place below ask_floor): ask which of the two.
    ask_dispute: float = 0.6
    ask_floor: float = 0.2
    #: Rules that know no place: the model's best two places together need this to be asked about.
    pair_min: float = 0.65


def combine(rules, probs: dict[str, float], explicit: bool, policy: Policy = Policy()):
    """The understanding of rules and model together (``rules``: an Understanding; ``probs``: label → p)."""
    if rules.intent in RULE_INTENTS or 'booking_number' in rules.slots or rules.slots.get('no_appointment') \
            or rules.slots.get('foreign_state'):
        return replace(rules, source='rules')
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])
    (l1, p1), (l2, p2) = ranked[0], ranked[1] if len(ranked) > 1 else ('', 0.0)
    if explicit:
        # The department stands; only what the visitor wants there may come from the model
        # ("wann kann man beim Standesamt vorbeikommen": opening hours of the Standesamt).
        if rules.intent == 'escort' and l1 in TARGET_INTENTS and p1 >= policy.dispute:
            return replace(rules, intent=l1, confidence=p1, source='both')
        return replace(rules, source='rules')
    rule_label = label_of(rules.intent, rules.target)
    places = _places(rules, probs)
    if rule_label == l1:
        if rules.intent == 'escort':
            return _maybe_ask(replace(rules, confidence=max(rules.confidence, p1), candidates=places[:3],
                                      source='both'), places, policy)
        return replace(rules, confidence=max(rules.confidence, p1), source='both')
    unsure = rules.confidence < policy.threshold or (rules.intent == 'out_of_scope' and rules.confidence <= 0.5)
    if unsure:
        if p1 >= policy.learned_min:
            intent, target = _split(l1)
            if intent != 'escort':
                target = rules.target if intent == rules.intent else _queue_target(rules, intent)
            chosen = replace(rules, intent=intent, target=target, confidence=p1, source='learned',
                             candidates=places[:3] if intent == 'escort' else rules.candidates)
            return _maybe_ask(chosen, places, policy) if intent == 'escort' else chosen
        if rules.intent == 'escort':
            return _maybe_ask(replace(rules, candidates=places[:3] or rules.candidates, source='both'), places,
                              policy)
        if l1.startswith('escort:') and l2.startswith('escort:') and p1 + p2 >= policy.pair_min:
            # Two places share the model's belief and the rules know none: ask between them.
            return replace(rules, intent='escort', target=_split(l1)[1], confidence=p1, source='learned',
                           candidates=places[:3], clarify=[_split(l1)[1], _split(l2)[1]])
        return replace(rules, source='rules')
    # Sure rules: only a sure model that finds the rules' choice unlikely questions them. Two places: ask.
    p_rule = probs.get(rule_label, 0.0)
    if rules.intent == 'escort' and l1.startswith('escort:') and p1 >= policy.ask_dispute \
            and p_rule < policy.ask_floor:
        return replace(rules, clarify=[rules.target, _split(l1)[1]], confidence=min(rules.confidence, p1),
                       candidates=places[:3], source='both')
    # What the visitor wants differs ("mein Laden wird geschlossen" is no question of opening hours): the
    # model's label when it is sure and finds the rules' nearly impossible.
    if p1 >= policy.dispute and p_rule < policy.dispute_floor \
            and not (rules.intent in TARGET_INTENTS and l1 == f'escort:{rules.target}'):
        # (The model naming the rules' place only as an escort confirms the place: the intent words are the
        # rules' own, exact: "Oturma izni işleri için hangi günler açıksınız" asks opening hours.)
        intent, target = _split(l1)
        if intent != 'escort':
            target = rules.target if intent in TARGET_INTENTS else None
        return replace(rules, intent=intent, target=target, confidence=p1, source='learned',
                       candidates=places[:3] if intent == 'escort' else rules.candidates)
    if rules.intent == 'escort':
        return _maybe_ask(replace(rules, source='rules'), places, policy)
    return replace(rules, source='rules')


def _split(label: str) -> tuple[str, str | None]:
    intent, _, target = label.partition(':')
    return intent, target or None


def _places(rules, probs: dict[str, float]) -> list[tuple[str, float]]:
    """Targets by combined confidence: the mean of the rules' candidate confidence and the model's probability."""
    from_rules = dict(rules.candidates)
    targets = set(from_rules) | {lab[7:] for lab, p in probs.items() if lab.startswith('escort:') and p >= 0.05}
    scored = [(t, 0.5 * from_rules.get(t, 0.0) + 0.5 * probs.get(f'escort:{t}', 0.0)) for t in targets]
    return sorted(scored, key=lambda kv: (-kv[1], kv[0]))


def _maybe_ask(chosen, places: list[tuple[str, float]], policy: Policy):
    """Ask between the best two places when the call is close or the best is unsure."""
    if len(places) < 2 or chosen.confidence >= 0.9:
        return chosen
    (t1, s1), (t2, s2) = places[0], places[1]
    if chosen.target not in (t1, t2):
        return chosen
    if chosen.target != t1 and s1 >= 0.3:
        # Rules and model together rank another place first: not sure enough to walk there, ask.
        return replace(chosen, clarify=[t1, chosen.target])
    close = s1 - s2 < policy.margin and s2 >= 0.15
    unsure = chosen.confidence < policy.threshold and s2 >= 0.1
    if close or unsure:
        first, second = (chosen.target, t2 if chosen.target == t1 else t1)
        return replace(chosen, clarify=[first, second])
    return chosen


def _queue_target(rules, intent: str) -> str | None:
    """A ticket, check-in or opening hours taken from the model: the rules' best place, if it was sure."""
    if intent in ('ticket', 'appointment_checkin', 'opening_hours') and rules.candidates \
            and rules.candidates[0][1] >= 0.8:
        return rules.candidates[0][0]
    return None


#: Sources whose text a recogniser wrote: its confidence says how far the words can be trusted (touch and typed
#: text are what the visitor meant).
ASR_SOURCES = ('vosk', 'whisper')


def weighed_by_asr(u, asr_confidence: float, reject_below: float, ask_below: float, min_candidate: float):
    """The understanding of recognised speech, weighed by the recogniser's confidence.

    Below ``reject_below`` nothing is acted on: the robot says it did not understand (and the screen offers
    its buttons). Below ``ask_below`` a place is asked as a two-choice question of the two likeliest
    candidates (each at least ``min_candidate``) instead of being offered alone. (On spoken dev sentences, 2026-12-06, Whisper's confidence
    below 0.3 came with 12 wrong answers of 13.)
    """
    if asr_confidence < reject_below:
        return replace(u, intent='out_of_scope', target=None, confidence=0.0, clarify=[])
    if asr_confidence < ask_below and u.intent == 'escort' and u.target and not u.clarify:
        others = [t for t, c in u.candidates if t != u.target and c >= min_candidate]
        if others:
            return replace(u, clarify=[u.target, others[0]])
    return u

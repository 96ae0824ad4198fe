"""Where the visitor wants to go: asking between two places, offering an escort (or showing the way when the
office takes none now), and the answer to the offer. Also the closing notice said before an offer.

A mixin of :class:`~l2b2_dialogue.engine.DialogueEngine`, like :mod:`l2b2_dialogue.checkin` and
:mod:`l2b2_dialogue.escorting`: the engine's session, settings and ``_say`` are its state and voice.
"""
from __future__ import annotations

from l2b2_dialogue.effects import StartEscort
from l2b2_dialogue.nlu import Understanding
from l2b2_office.day_cycle import BATTERY_CRITICAL, BATTERY_LOW


class OfferConversation:
    """Clarifying, offering and confirming; mixed into the engine."""

    def _offer(self, target_id: str, key: str = 'confirm_escort', notice_for: str | None = None,
               **values: object) -> None:
        """Say ``key`` and offer to walk the visitor to ``target_id`` (its question ends ``key``).

        ``notice_for`` is the visitor's department (default: the target of a plain escort offer): when it closes
        soon, the robot says so first. While the office refuses escorts the way is shown instead
        (``<key>_no_escort``, the same sentence without its question, then why and where the way is).
        """
        notice = self._closing_notice(target_id if notice_for is None and key == 'confirm_escort' else notice_for)
        if self.escort_refusal is not None:
            self._show_the_way(target_id, '' if key == 'confirm_escort' else f'{key}_no_escort', notice, **values)
            return
        self.session.offer_target = target_id
        self.session.target = target_id
        self.offer()
        self._say(key, before=notice, to_target=self._to(target_id), **values)

    def _show_the_way(self, target_id: str, key: str = '', before: str = '', reason: str | None = None,
                      **values: object) -> None:
        """No escort now (the office refuses them, or the escort did): say why, show the way on the screen and
        point to the info desk; the conversation goes on (as when the escort server is missing)."""
        s = self.session
        s.target, s.offer_target, s.pending, s.escorted = target_id, '', '', False
        reason = reason or self.escort_refusal or ''
        refusal = 'escort_refused_battery' if reason in (BATTERY_LOW, BATTERY_CRITICAL) else 'escort_refused'
        way = self._sentence(self._text('way_on_screen_info' if target_id == self.settings.info_desk
                                        else 'way_on_screen', to_target=self._to(target_id)))
        self.listen()
        if key:
            self._say(key, before=before, after=f'{self._text(refusal)} {way}', **values)
        else:
            self._say(refusal, before=before, after=way)

    def _sentence(self, text: str) -> str:
        """Capitalise a sentence that starts with a placeholder ("tuvaletlere giden yolu ..." → "Tuvaletlere ...")."""
        if not text:
            return text
        first = text[0]
        if self.session.language == 'tr':
            first = {'i': 'İ', 'ı': 'I'}.get(first, first)
        return first.upper() + text[1:]

    def _closing_notice(self, department: str | None) -> str:
        """"Die Meldestelle schließt heute um 12:00 Uhr; ...": once per conversation and department, when it
        closes within closing_notice_minutes (on the calendar; '' without one)."""
        s = self.session
        if not department or self.calendar is None or department not in self.catalog or department in s.noticed \
                or department in (self.settings.info_desk, self.settings.waiting_area):
            return ''
        notice = self.calendar.closing_notice(department, self.wall_clock(), self.day_cycle.closing_notice_minutes,
                                              self.day_cycle.min_service_minutes)
        if notice.message_key is None or notice.closes_at is None:
            return ''
        s.noticed.add(department)
        subject = self.responses.subject(department, self._name(department), s.language)
        return self._text(notice.message_key, subject=subject, time=f'{notice.closes_at:%H:%M}')

    def _clarify_from(self, u: Understanding) -> None:
        candidates = [t for t, c in u.candidates if c >= self.settings.candidate_min_confidence]
        candidates = candidates[:self.settings.max_candidates]
        if not candidates:
            self.listen()
            self._reprompt('not_understood')
            return
        self._ask_between(candidates)

    def _ask_between(self, candidates: list[str]) -> None:
        """"Möchten Sie zur Pass- und Ausweisstelle oder zum Abholterminal?": the candidates become buttons."""
        candidates = [t for t in dict.fromkeys(candidates) if t in self.catalog]
        if len(candidates) == 1:
            self._offer(candidates[0])
            return
        self.session.candidates = candidates
        self.clarify()
        self._say(self._clarify_key(), **self._clarify_values())

    def _clarify_key(self) -> str:
        return 'clarify_two' if len(self.session.candidates) == 2 else 'clarify'

    def _in_clarifying(self, u: Understanding, name: str = '') -> None:
        s = self.session
        chosen = None
        if u.target in s.candidates and u.intent in ('escort', 'affirm', 'out_of_scope'):
            chosen = u.target
        elif 'ordinal' in u.slots and u.slots['ordinal'] < len(s.candidates):
            chosen = s.candidates[u.slots['ordinal']]
        elif u.intent == 'affirm' and len(s.candidates) == 1:
            chosen = s.candidates[0]
        if chosen:
            self._offer(chosen)
        elif u.intent == 'deny':
            self.listen()
            self._say('where_instead')
        elif u.intent == 'escort' and u.target and u.confidence >= self.settings.confidence_threshold:
            self._offer(u.target)
        elif u.intent in ('escort', 'affirm', 'out_of_scope'):
            self._reprompt('reprompt_clarify')
        else:
            self._request(u, name)

    def _in_confirming(self, u: Understanding, name: str = '') -> None:
        s = self.session
        if u.intent == 'affirm':
            target = s.offer_target or self.settings.info_desk
            if self.estop_active:
                self.listen()
                self._say('estop_blocked')
                return
            if self.escort_refusal is not None:  # the office refused escorts since the offer
                self._show_the_way(target)
                return
            s.target, s.pending, s.escorted = target, 'escort', True
            self.go()
            self._say('escort_start', to_target=self._to(target))  # the escort node adds "Bitte folgen Sie mir"
            self.effects.append(StartEscort(target, s.language))
        elif u.intent == 'deny':
            # "Nein danke" declines politely (the visitor knows the way); a bare "nein" corrects the target.
            if self.state == 'staff_handoff' or s.display_number or u.slots.get('thanks'):
                self._farewell()
            else:
                self.listen()
                self._say('where_instead')
        elif u.intent in ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'smalltalk') \
                and (u.target or u.intent != 'escort'):
            self._request(u, name)
        else:
            self._reprompt('reprompt_confirm', to_target=self._to(s.offer_target or self.settings.info_desk))

    def _clarify_values(self) -> dict[str, str]:
        candidates = self.session.candidates
        names = [self._name(t) for t in candidates]
        values = {'options': self.responses.join(names, self.session.language)}
        if len(candidates) == 2:
            values.update(first=self._to(candidates[0]), second=self._to(candidates[1]))
        return values

    def _offer_values(self) -> dict[str, str]:
        return {'to_target': self._to(self.session.offer_target)}

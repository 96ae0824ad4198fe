"""The visitor screen's side of the conversation: its buttons (``choices``) and its touches.

A mixin of :class:`~l2b2_dialogue.engine.DialogueEngine`. Everything works without speech: a touch
becomes the same understanding an utterance would (``choice`` "yes" is an affirm), except that a
touch never counts as a misunderstanding.
"""
from __future__ import annotations

from l2b2_dialogue.effects import CancelEscort
from l2b2_dialogue.nlu import Understanding


class VisitorScreen:
    """Buttons and touches; mixed into the engine."""

    def choices(self) -> list[str]:
        """Buttons for the visitor screen: values a VisitorInput 'choice' may carry in this state."""
        choices = self.spec.choices
        return getattr(self, choices)() if isinstance(choices, str) else list(choices)

    def _listening_choices(self) -> list[str]:
        return [c for c in self.settings.listening_choices if c in ('checkin', 'ticket') or c in self.catalog]

    def _clarify_choices(self) -> list[str]:
        return [*self.session.candidates, 'none']

    def touch(self, action: str, value: str, language: str, now: float) -> None:
        """A touch on the visitor screen; everything works without speech."""
        self.now = now
        if self.estop_active or self.state == 'takeover':
            return
        if language in self.responses.languages and action != 'language':
            self.session.language = language
        was_hearing, self._hearing = self._hearing, False  # a touch is never a misunderstanding
        try:
            self._touch(action, value, language, now)
        finally:
            self._hearing = was_hearing

    def _touch(self, action: str, value: str, language: str, now: float) -> None:
        if action == 'start':
            if self.spec.between_visitors:
                self._greet()
        elif action == 'language':
            self.set_language(value, now)
        elif action == 'cancel':
            if self.state == 'escorting':
                self.effects.append(CancelEscort())
            if self.state != 'idle':
                self._say('cancelled')
                self.reset()
        elif action == 'text':
            self.hear(value, language, now, 'touch')
        elif action == 'target' and value in self.catalog:
            self._handle(Understanding('escort', value, 1.0, self.session.language))
        elif action == 'checkin':
            # "4711" or "4711 Mustermann": the number, optionally followed by the name on the booking.
            number, _, name = value.strip().partition(' ')
            if self.state == 'checkin' and self.session.awaiting_name and not number.isdigit():
                self.hear(value, language, now, 'touch')
                return
            slots = {'booking_number': number} if number.isdigit() else {}
            self._handle(Understanding('appointment_checkin', None, 1.0, self.session.language, slots),
                         name=self.nlu.name_from_text(name))
        elif action == 'ticket':
            target = value if value in self.catalog else None
            self._handle(Understanding('ticket', target, 1.0, self.session.language))
        elif action == 'choice':
            self._choice(value)

    def _choice(self, value: str) -> None:
        lang = self.session.language
        if value in ('yes', 'affirm'):
            self._handle(Understanding('affirm', None, 1.0, lang))
        elif value in ('no', 'none', 'deny', 'stop'):
            self._handle(Understanding('deny', None, 1.0, lang))
        elif value == 'cancel':
            self.touch('cancel', '', '', self.now)
        elif value == 'checkin':
            self._handle(Understanding('appointment_checkin', None, 1.0, lang))
        elif value == 'ticket':
            self._handle(Understanding('ticket', None, 1.0, lang))
        elif value in self.catalog:
            intent = 'ticket' if self.state == 'ticket' else 'escort'
            self._handle(Understanding(intent, value, 1.0, lang))

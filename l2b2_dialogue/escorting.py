"""The escort's side of the conversation: what the visitor says on the way, and how the escort ended.

A mixin of :class:`~l2b2_dialogue.engine.DialogueEngine`; the node reports the /escort action's outcome
(``escort_done``) or that there is no escort server (``escort_unavailable``).
"""
from __future__ import annotations

from l2b2_common.codes import EscortOutcome
from l2b2_dialogue.effects import CancelEscort
from l2b2_dialogue.nlu import Understanding
from l2b2_office.day_cycle import BATTERY_LOW


class EscortConversation:
    """The conversation while escorting; mixed into the engine."""

    def _while_escorting(self, u: Understanding, name: str = '') -> None:
        if u.intent in ('deny', 'goodbye'):
            self.effects.append(CancelEscort())
            self.session.pending = ''
            self._say('escort_cancelled')
            self._farewell()
        else:
            self._say('escort_keep_following')

    def escort_done(self, outcome: int, now: float) -> None:
        """Result of the /escort action, or UNAVAILABLE-like outcomes when the server is absent."""
        self.now = now
        s = self.session
        if self.state != 'escorting':
            return
        s.pending = ''
        if outcome == EscortOutcome.ARRIVED:
            self.arrive()  # the escort node itself announces the arrival ("Wir sind da ...")
        elif outcome == EscortOutcome.VISITOR_LOST:
            self._say('visitor_lost')
            self.reset()
        elif outcome == EscortOutcome.CANCELED:
            self._farewell()
        elif outcome == EscortOutcome.ESTOPPED:
            self._say('escort_stopped')
            self.reset()
        elif outcome == EscortOutcome.NOT_ACCEPTING:  # escorts refused while the office node says so
            # Told why (the office's reason; the escort refuses for a low battery unless the office said otherwise),
            # shown the way on the screen and pointed to the info desk, as when the escort server is missing.
            self._show_the_way(s.target or self.settings.info_desk, reason=self.escort_refusal or BATTERY_LOW)
        else:  # NAVIGATION_FAILED, UNKNOWN_TARGET, BUSY
            s.escorted = False
            self._offer(self.settings.info_desk, key='escort_failed')

    def escort_unavailable(self, now: float) -> None:
        """No escort server, or it rejected the goal: tell the visitor the way via the info desk."""
        self.now = now
        s = self.session
        if self.state != 'escorting':
            return
        s.pending, s.escorted = '', False
        self.listen()
        self._say('escort_unavailable', to_target=self._to(s.target))

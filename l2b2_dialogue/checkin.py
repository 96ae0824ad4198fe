"""Check-in with a booking number (and surname) and drawing a waiting number: the queue part of the talk.

A mixin of :class:`~l2b2_dialogue.engine.DialogueEngine` (it uses the engine's session, ``_say`` and
``_offer``): the two conversations that ask the queue bridge something, and the answers that come back
(``lookup_done``, ``checkin_done``, ``ticket_done``, UNAVAILABLE when the bridge is missing or slow).
"""
from __future__ import annotations

import itertools

from l2b2_common.codes import QueueResult
from l2b2_dialogue.effects import CheckIn, DrawTicket, LookupAppointment
from l2b2_dialogue.nlu import Understanding


class QueueConversation:
    """Check-in and tickets; mixed into the engine."""

    def _init_queue(self) -> None:
        self._tickets = itertools.count(1)

    # -- check-in --------------------------------------------------------------------------------------------
    def _start_checkin(self, u: Understanding, name: str = '') -> None:
        number = u.slots.get('booking_number')
        if self.state != 'checkin':
            self.ask_booking()
        if number:
            self._got_number(number, name)
        else:
            self._say('checkin_ask_number')

    def _got_number(self, number: str, name: str = '') -> None:
        s = self.session
        s.booking_number = number
        if self.settings.checkin_ask_name and not name:
            s.awaiting_name = True
            self._say('checkin_ask_name')
        else:
            self._lookup(name)

    def _in_checkin(self, u: Understanding, name: str = '') -> None:
        s = self.session
        if s.pending:
            return  # a lookup is under way; its answer drives the conversation
        if s.awaiting_name:
            if u.intent in ('deny', 'goodbye') and u.confidence >= 0.9:
                s.awaiting_name = False
                self.listen()
                self._say('where_instead')
                return
            name = name or self.nlu.name_from_text(s.user_text)
            s.user_text = '***' if name else s.user_text  # the name is not shown on the panels
            if name:
                s.awaiting_name = False
                self._lookup(name)
            else:
                self._reprompt('reprompt_checkin_name')
            return
        number = u.slots.get('booking_number')
        if number:
            self._got_number(number, name)
        elif u.intent == 'deny':
            self.listen()
            self._say('where_instead')
        elif u.intent in ('escort', 'ticket', 'opening_hours') and (u.target or u.intent == 'ticket'):
            self._request(u)
        else:
            self._reprompt('reprompt_checkin')

    def _lookup(self, name: str = '') -> None:
        s = self.session
        s.pending = 'lookup'
        self._say('checkin_looking_up')
        self.effects.append(LookupAppointment(s.booking_number, name))

    def lookup_done(self, result: int, now: float, appointment_target: str = '') -> None:
        """Answer of /queue/lookup_appointment (UNAVAILABLE when the server is missing or slow)."""
        self.now = now
        s = self.session
        if self.state != 'checkin' or s.pending != 'lookup':
            return
        s.pending = ''
        if appointment_target in self.catalog:
            s.target = appointment_target
        if result == QueueResult.OK:
            s.pending = 'checkin'
            self.effects.append(CheckIn(s.booking_number))
            self._touch_version()
        elif result in (QueueResult.NOT_FOUND, QueueResult.INVALID, QueueResult.FORBIDDEN):
            self.deadline = now + self.settings.answer_timeout_s
            if self.reprompts < self.settings.max_reprompts:
                self.reprompts += 1
                if result == QueueResult.FORBIDDEN and self.settings.checkin_ask_name:
                    s.awaiting_name = True
                    self._say('checkin_name_mismatch')
                else:
                    self._say('checkin_not_found')
            else:
                self._offer(self.settings.info_desk, key='checkin_failed')
        elif result == QueueResult.UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            self._offer(self.settings.info_desk, key='checkin_failed')

    def checkin_done(self, result: int, now: float, display_number: str = '', wait_minutes: int = 0,
                     appointment_time: str = '') -> None:
        """Answer of /queue/check_in."""
        self.now = now
        s = self.session
        if self.state != 'checkin' or s.pending != 'checkin':
            return
        s.pending = ''
        s.booking_number = ''
        if result in (QueueResult.OK, QueueResult.ALREADY_CHECKED_IN):
            s.display_number, s.wait_minutes = display_number, max(0, int(wait_minutes))
            key = 'checkin_ok' if result == QueueResult.OK else 'checkin_already'
            self._offer(self.settings.waiting_area, key=key, number=display_number, minutes=s.wait_minutes)
        elif result == QueueResult.TOO_EARLY:
            self._offer(self.settings.waiting_area, key='checkin_too_early', time=_clock_text(appointment_time))
        elif result == QueueResult.TOO_LATE:
            self._offer(self.settings.info_desk, key='checkin_too_late')
        elif result == QueueResult.UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            self._offer(self.settings.info_desk, key='checkin_failed')

    # -- tickets -----------------------------------------------------------------------------------------------
    def _ticket_choices(self) -> list[str]:
        if self.session.pending:
            return []
        return [t.id for t in self.catalog.targets.values() if t.scope_id is not None]

    def _in_ticket(self, u: Understanding, name: str = '') -> None:
        if self.session.pending:
            return
        target = u.target if u.intent in ('escort', 'ticket', 'affirm', 'out_of_scope') else None
        if target:
            self._draw_ticket(target)
        elif u.intent == 'deny':
            self.listen()
            self._say('where_instead')
        elif u.intent in ('appointment_checkin', 'opening_hours', 'goodbye'):
            self._request(u)
        else:
            self._reprompt('reprompt_ticket')

    def _ask_for_ticket(self, u: Understanding) -> None:
        if u.target:
            self._draw_ticket(u.target)
        else:
            self.ask_department()
            self._say('ticket_ask_target')

    def _draw_ticket(self, target_id: str) -> None:
        s = self.session
        if self.catalog[target_id].scope_id is None:
            self._offer(target_id, key='ticket_no_queue', target=self._name(target_id))
            return
        if self.state != 'ticket':
            self.ask_department()
        s.target, s.pending = target_id, 'ticket'
        self._start_session()
        self.effects.append(DrawTicket(target_id, f'{s.id}-{next(self._tickets)}'))
        self._touch_version()

    def ticket_done(self, result: int, now: float, display_number: str = '', waiting_count: int = 0,
                    wait_minutes: int = 0) -> None:
        """Answer of /queue/draw_ticket."""
        self.now = now
        s = self.session
        if self.state != 'ticket' or s.pending != 'ticket':
            return
        s.pending = ''
        if result == QueueResult.OK:
            s.display_number, s.wait_minutes = display_number, max(0, int(wait_minutes))
            self._offer(self.settings.waiting_area, key='ticket_ok', number=display_number,
                        waiting=max(0, int(waiting_count)), minutes=s.wait_minutes)
        elif result == QueueResult.CLOSED:
            self.listen()
            self._say('ticket_closed', target=self._name(s.target))
        elif result == QueueResult.UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            self._offer(self.settings.info_desk, key='checkin_failed')


def _clock_text(iso_time: str) -> str:
    """ "2026-11-22T10:30:00" → "10:30" (empty stays empty)."""
    if 'T' in iso_time:
        return iso_time.split('T', 1)[1][:5]
    return iso_time[:5]

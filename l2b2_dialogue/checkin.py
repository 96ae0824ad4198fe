"""Check-in with a booking number (and surname) and drawing a waiting number: the queue part of the talk.

A mixin of :class:`~l2b2_dialogue.engine.DialogueEngine` (it uses the engine's session, ``_say`` and
``_offer``): the two conversations that ask the queue bridge something, and the answers that come back
(``lookup_done``, ``checkin_done``, ``ticket_done``, UNAVAILABLE when the bridge is missing or slow).

The check-in is no oracle: an unknown number, a name that does not match and a booking the system will not
show all get one answer (``checkin_no_match``), and look-ups are limited per conversation
(``checkin_max_failures``) and per booking number over all conversations (``checkin_number_max_failures``
within ``checkin_number_window_s``, kept by :class:`FailedLookups` as salted hashes only); reaching a limit
tells staff (:class:`~l2b2_dialogue.effects.TellStaff`, no visitor data). A conversation draws at most
``max_tickets_per_conversation`` waiting numbers, and the robot at most one every ``ticket_interval_s``.
"""
from __future__ import annotations

from collections import deque
import hashlib
import hmac
import itertools
import os
import re

from l2b2_common.codes import QueueResult
from l2b2_dialogue.effects import CheckIn, DrawTicket, LookupAppointment, TellStaff
from l2b2_dialogue.nlu import Understanding

#: What staff see (log and /l2b2/health) when check-ins keep failing at the robot: no visitor data.
CHECKIN_ALERT = 'repeated check-in failures at the robot'


class FailedLookups:
    """Failed look-ups per booking number and at the robot, over all conversations, for ``window_s``.

    A booking number is kept only as a keyed hash (HMAC-SHA256 with a random per-process salt: it cannot be
    recovered by trying all numbers, and it is gone when the process ends) with the times of its failures;
    both expire after the window. Leading zeros and spaces do not make another number (``04711`` = ``4711``,
    as for the appointment system). At most ``max_numbers`` numbers are kept (the oldest go first).
    """

    def __init__(self, max_numbers: int = 10000):
        self._salt = os.urandom(16)
        self._max_numbers = max_numbers
        self._by_number: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _key(self, booking_number: str) -> str:
        digits = re.sub(r'\D', '', booking_number).lstrip('0')
        return hmac.new(self._salt, digits.encode(), hashlib.sha256).hexdigest()

    def _expire(self, now: float, window_s: float) -> None:
        since = now - window_s
        while self._all and self._all[0] <= since:
            self._all.popleft()
        for key in [k for k, times in self._by_number.items() if times[-1] <= since]:
            del self._by_number[key]

    def count(self, booking_number: str, now: float, window_s: float) -> int:
        """Failures of this number within the window."""
        self._expire(now, window_s)
        return len(self._by_number.get(self._key(booking_number), ()))

    def record(self, booking_number: str, now: float, window_s: float) -> tuple[int, int]:
        """One more failure; returns the failures of this number and of the robot within the window."""
        self._expire(now, window_s)
        key = self._key(booking_number)
        times = self._by_number.pop(key, deque())  # re-inserted: the dict stays ordered by last failure
        while times and times[0] <= now - window_s:
            times.popleft()
        times.append(now)
        self._by_number[key] = times
        while len(self._by_number) > self._max_numbers:
            del self._by_number[next(iter(self._by_number))]
        self._all.append(now)
        return len(times), len(self._all)

    def __len__(self) -> int:
        return len(self._by_number)


class QueueConversation:
    """Check-in and tickets; mixed into the engine."""

    def _init_queue(self) -> None:
        self._tickets = itertools.count(1)
        #: Over all conversations: failed look-ups (hashed numbers), the last staff alert, the last ticket drawn.
        self._failed_lookups = FailedLookups()
        self._staff_told_at: float | None = None
        self._last_ticket_at: float | None = None

    def _new_queue_conversation(self) -> None:
        """A new conversation starts (a greeting, or a request after a farewell): its own counts start at 0.

        Only the conversation's: the booking numbers' failures and the ticket interval are the robot's."""
        self.session.checkin_failures = 0
        self.session.tickets = []

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
            self._request(u, name)
        else:
            self._reprompt('reprompt_checkin')

    def _lookup(self, name: str = '') -> None:
        s = self.session
        if s.checkin_failures >= self.settings.checkin_max_failures or self._failed_lookups.count(
                s.booking_number, self.now, self.settings.checkin_number_window_s) \
                >= self.settings.checkin_number_max_failures:
            self._lookup_failed()  # not asked: the same answer as a failed look-up, the attempt counts
            return
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
        if result == QueueResult.OK:
            if appointment_target in self.catalog:
                s.target = appointment_target
            s.pending = 'checkin'
            self.effects.append(CheckIn(s.booking_number))
            self._touch_version()
        elif result == QueueResult.UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            # NOT_FOUND, FORBIDDEN (name), INVALID, ERROR (a booking the system will not show): one answer,
            # so that the robot never tells whether a booking number exists.
            self._lookup_failed()

    def _lookup_failed(self) -> None:
        """One answer for "no such number" and "wrong name"; the number and the name are asked again while
        the conversation's and the number's attempts last, else the info desk is offered (and staff told)."""
        s, settings = self.session, self.settings
        s.checkin_failures += 1
        for_number, at_robot = self._failed_lookups.record(s.booking_number, self.now,
                                                           settings.checkin_number_window_s)
        s.booking_number, s.awaiting_name = '', False
        give_up = s.checkin_failures >= settings.checkin_max_failures \
            or for_number >= settings.checkin_number_max_failures
        if give_up or at_robot >= settings.checkin_robot_alert_failures:
            self._tell_staff()
        if give_up:
            self._offer(settings.info_desk, key='checkin_no_match_info')
        else:
            self.deadline = self.now + settings.answer_timeout_s
            self._say('checkin_no_match')

    def _tell_staff(self) -> None:
        """Check-ins keep failing: staff are told once per window (no booking number, no name)."""
        window = self.settings.checkin_number_window_s
        if self._staff_told_at is not None and self.now - self._staff_told_at < window:
            return
        self._staff_told_at = self.now
        self.effects.append(TellStaff(CHECKIN_ALERT, hold_s=window))

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
            self._offer(self.settings.waiting_area, key=key, notice_for=s.target, number=display_number,
                        minutes=s.wait_minutes)
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
            self._request(u, name)
        else:
            self._reprompt('reprompt_ticket')

    def _ask_for_ticket(self, u: Understanding) -> None:
        if self._had_tickets():
            return
        if u.target:
            self._draw_ticket(u.target)
        else:
            self.ask_department()
            self._say('ticket_ask_target')

    def _draw_ticket(self, target_id: str) -> None:
        s = self.session
        if self.catalog[target_id].scope_id is None:
            self._offer(target_id, key='ticket_no_queue', notice_for=target_id, target=self._name(target_id))
            return
        if self._had_tickets():
            return
        if self.state != 'ticket':
            self.ask_department()
        if self._last_ticket_at is not None and self.now - self._last_ticket_at < self.settings.ticket_interval_s:
            self._say('ticket_wait')  # a number was drawn moments ago (a flood of touches): again in a moment
            return
        s.target, s.pending = target_id, 'ticket'
        self._start_session()
        self.effects.append(DrawTicket(target_id, f'{s.id}-{next(self._tickets)}'))
        self._touch_version()

    def _had_tickets(self) -> bool:
        """The conversation has drawn its waiting numbers: the robot repeats them and offers the waiting area."""
        s = self.session
        if len(s.tickets) < self.settings.max_tickets_per_conversation:
            return False
        self._offer(self.settings.waiting_area, key='ticket_already',
                    number=self.responses.join(s.tickets, s.language, 'list_and'))
        return True

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
            s.tickets.append(display_number)
            self._last_ticket_at = now
            self._offer(self.settings.waiting_area, key='ticket_ok', notice_for=s.target, number=display_number,
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

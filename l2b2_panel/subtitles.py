"""Spoken words on the screens: which sentence the subtitle shows, and what of a visitor's words is masked.

Split from :mod:`l2b2_panel.state` so the subtitle rule (the speech output runs behind the dialogue and
must never show the last visitor's sentences to the next) and the privacy masking can be read and tested
on their own; :class:`~l2b2_panel.state.PanelState` holds the lock and calls them. No ROS import here.
"""
from __future__ import annotations

import re
from typing import Any

#: The dialogue's check-in states (l2b2_dialogue.states; a test keeps the two in step): what a visitor
#: says there is a booking number or a surname, which no screen outside the dialogue engine shows.
CHECKIN_STATES = ('checkin',)
MASK = '***'
_LONG_NUMBER = re.compile(r'\d{4,}')


class Subtitles:
    """Which spoken sentence the screens show (no lock of its own: :class:`~l2b2_panel.state.PanelState` holds one).

    The speech output queues the dialogue's sentences and speaks them in order, so it can be several
    sentences behind, and still speak the last visitor's when the next one begins. Each sentence asked
    for on /speech/say gets a running number; a new conversation (a new ``session_id``) makes every
    sentence asked for before the dialogue's previous state message stale (the dialogue publishes a
    new conversation's first sentences just before its first state), the end of one (idle) all
    sentences so far. The subtitle is the newest non-stale sentence the TTS has started (or ended
    without a voice), never an older one than shown.
    """

    KEEP = 64  # sentences remembered: far more than a conversation's backlog

    def __init__(self) -> None:
        self.count = 0          # sentences asked for so far
        self.mark = 0           # self.count when the dialogue's last state message arrived
        self.stale_upto = 0     # sentences with this number or lower belong to an earlier conversation
        self.session = ''
        self.tts_seen = False   # a speech output reports what it speaks
        self._asked: dict[str, tuple[int, str, str]] = {}
        self._shown: tuple[int, str, str] | None = None

    def shown(self) -> dict[str, Any]:
        return {} if self._shown is None else {'text': self._shown[1], 'language': self._shown[2]}

    def dialogue_state(self, session: str, ended: bool) -> bool:
        """A dialogue state message; True when a conversation began or ended (the screens clear)."""
        changed = ended or session != self.session
        if changed:
            self.stale_upto = self.count if ended or not session else self.mark
            if ended or not session or (self._shown is not None and self._shown[0] <= self.stale_upto):
                self._shown = None
        self.session, self.mark = session, self.count
        return changed

    def requested(self, utterance_id: str, text: str, language: str) -> bool:
        self.count += 1
        entry = (self.count, text, language)
        if utterance_id:
            self._asked[utterance_id] = entry
            if len(self._asked) > self.KEEP:
                self._asked.pop(next(iter(self._asked)))
        if self.tts_seen or not text:
            return False
        self._shown = entry
        return True

    def status(self, utterance_id: str, text: str, language: str) -> bool:
        """A status from the TTS; True when the subtitle changed."""
        self.tts_seen = True
        if not text:
            return False
        number = self._asked.get(utterance_id, (None,))[0] if utterance_id else None
        if number is None:
            number = self.count + 0.5  # asked for before the panel listened: it is spoken now, so current
        if number <= self.stale_upto or (self._shown is not None and number < self._shown[0]):
            return False
        if self._shown is not None and self._shown[0] == number:
            return False
        self._shown = (number, text, language)
        return True


def mask_numbers(text: str) -> str:
    """Booking numbers said anywhere else (four digits or more) are masked too; times and counters stay."""
    return _LONG_NUMBER.sub(lambda m: '*' * len(m.group()), text)

"""The dialogue's tunables: one dataclass, read by the engine and declared as the node's ROS parameters.

Each field carries its description and bounds (:func:`l2b2_common.tunables.tunable`), so adding a
tunable is one line here (plus a line in ``config/dialogue.yaml`` to change its default).
"""
from __future__ import annotations

from dataclasses import dataclass

from l2b2_common.catalog import LANGUAGES
from l2b2_common.tunables import tunable


@dataclass
class Settings:
    """Time-outs (seconds on the node clock) and limits of the conversation."""

    confidence_threshold: float = tunable(
        0.6, 'Below this NLU confidence the robot asks a clarifying question.', min=0.0, max=1.0)
    candidate_min_confidence: float = tunable(
        0.15, 'A target needs this confidence to be offered in a clarifying question.', min=0.0, max=1.0)
    asr_reject_below: float = tunable(
        0.3, 'Recognised speech below this recogniser confidence is not acted on: the robot asks again (and the '
        'screen offers its buttons). Touch and typed input are always taken.', min=0.0, max=1.0)
    asr_ask_below: float = tunable(
        0.5, 'Recognised speech below this recogniser confidence that names a place is asked as "A or B?" with '
        'the two likeliest places instead of being offered alone.', min=0.0, max=1.0)
    max_candidates: int = tunable(
        2, 'At most this many targets are offered in a clarifying question (two: "A or B?").', min=1, max=5)
    max_reprompts: int = tunable(
        2, 'Re-prompts after silence (or answers the robot cannot use) before it says goodbye or offers the '
        'info desk.', min=0, max=10)
    greeting_timeout_s: float = tunable(6.0, 'Greeting state lasts this long without an answer.', min=0.5, max=120.0)
    answer_timeout_s: float = tunable(
        12.0, 'Silence before a re-prompt while waiting for an answer.', min=1.0, max=300.0)
    arrived_timeout_s: float = tunable(4.0, 'Time in "arrived" before saying goodbye.', min=0.1, max=60.0)
    farewell_timeout_s: float = tunable(4.0, 'Time in "farewell" before returning/idle.', min=0.1, max=60.0)
    returning_timeout_s: float = tunable(
        8.0, 'Time in "returning" before idle (the escort drives home).', min=0.1, max=600.0)
    staff_handoff_timeout_s: float = tunable(90.0, 'Time in "staff_handoff" before idle.', min=1.0, max=3600.0)
    default_language: str = tunable(
        'de', 'Language of a new conversation until the visitor speaks.', choices=LANGUAGES)
    waiting_area: str = tunable('wartebereich', 'Target offered after a check-in or ticket.')
    info_desk: str = tunable('info', 'Target offered when the robot cannot help.')
    checkin_ask_name: bool = tunable(
        True, 'Ask for the surname after the booking number (the queue bridge checks it).')
    checkin_max_failures: int = tunable(
        3, 'Failed booking look-ups in one conversation before the robot stops asking and offers the info desk '
        '(and tells staff).', min=1, max=10)
    checkin_number_max_failures: int = tunable(
        5, 'Failed look-ups of one booking number within checkin_number_window_s, over all conversations, that '
        'lock the number at the robot (the visitor is sent to the info desk; staff are told).', min=1, max=50)
    checkin_number_window_s: float = tunable(
        900.0, 'A failed look-up counts this long towards the limits of its booking number and of the robot; '
        'a staff alert stands as long.', min=60.0, max=86400.0)
    checkin_robot_alert_failures: int = tunable(
        10, 'Failed look-ups of any numbers at the robot within checkin_number_window_s that tell staff '
        '(nothing is locked: a visitor trying many numbers).', min=2, max=500)
    max_tickets_per_conversation: int = tunable(
        1, 'Waiting numbers one conversation may draw; asked for another, the robot repeats the number drawn.',
        min=1, max=10)
    ticket_interval_s: float = tunable(
        5.0, 'Least time between two waiting numbers drawn at the robot, over all conversations (stops a flood '
        'of touches; a queue of visitors each drawing one is never held up).', min=0.0, max=600.0)
    listening_choices: list[str] = tunable(
        ['checkin', 'ticket', 'pass_ausweis', 'meldestelle', 'auslaenderbehoerde', 'standesamt', 'info', 'wc'],
        'Buttons of the visitor screen while the robot listens (targets not in the catalog are left out).',
        item_type=str)

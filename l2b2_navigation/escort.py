"""The escort policy: drive to a waypoint and make sure the visitor keeps up (no ROS here).

``escort_node`` feeds this state machine with what it hears (robot pose, tracked people, the
navigation goal's result, the clock) and carries out the commands it returns: send or cancel a
``NavigateToPose`` goal, say something, tell staff, finish with an outcome.

While the visitor keeps within ``follow_distance`` the robot drives. If they fall further behind
(or vanish from the tracks) for ``pause_after_s``, the goal is cancelled — the robot holds — and
the robot asks them to follow, repeating every ``prompt_interval_s``. Once they are back within
``resume_distance`` a fresh goal resumes the walk; after ``give_up_s`` of waiting the escort ends
with VISITOR_LOST and staff are told. A failed navigation goal is retried ``max_retries`` times.

Staff may pause an escort from the panel (someone in the way, a visitor who needs a moment): the
goal is cancelled at once and nothing times out while paused — no prompts, no giving up, no stall —
until staff continue it with a fresh goal.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import math

from l2b2_common.codes import EscortOutcome, VisitorStatus
from l2b2_common.config import ConfigError, StrictModel, load_model
from l2b2_common.geometry import Pose2D
from l2b2_common.tunables import tunable


class Phase(StrEnum):
    NAVIGATING = 'navigating'
    WAITING = 'waiting_for_visitor'
    RETRYING = 'retrying'
    PAUSED = 'paused'
    ARRIVED = 'arrived'
    FINISHED = 'finished'


@dataclass(frozen=True)
class EscortConfig:
    """The escort's tunables: one field each, also its ROS parameter (``declare_tunables``) and its doc."""

    follow_distance: float = tunable(3.0, 'The visitor counts as following within this distance of the robot (m).',
                                     min=0.5, max=10.0)
    resume_distance: float = tunable(2.0, 'After a pause, walk on once the visitor is this close (m; at most '
                                     'follow_distance).', min=0.3, max=10.0)
    pause_after_s: float = tunable(1.5, 'Falling behind or out of sight this long pauses the walk (s).',
                                   min=0.0, max=30.0)
    prompt_interval_s: float = tunable(8.0, 'Repeat the request to follow this often while waiting (s).',
                                       min=0.1, max=120.0)
    give_up_s: float = tunable(30.0, 'Waiting this long for the visitor ends with VISITOR_LOST (s).',
                               min=1.0, max=600.0)
    pick_radius: float = tunable(3.0, 'With visitor_track_id 0, the nearest person within this is the visitor (m).',
                                 min=0.5, max=10.0)
    reacquire_radius: float = tunable(1.0, 'A new track this close to where the visitor vanished continues '
                                      'them (m).', min=0.1, max=5.0)
    max_retries: int = tunable(2, 'Failed NavigateToPose goals retried before NAVIGATION_FAILED.', min=0, max=10)
    retry_delay_s: float = tunable(2.0, 'Pause before retrying a failed goal (s).', min=0.0, max=60.0)
    stall_timeout_s: float = tunable(90.0, 'A goal under which the robot has not moved stall_distance for this '
                                     'long is given up and retried (a hung navigator, a stuck robot) (s).',
                                     min=5.0, max=3600.0)
    stall_distance: float = tunable(0.3, 'Movement that counts as progress under a goal (m).', min=0.01, max=5.0)
    return_home: bool = tunable(True, 'Go back to the home waypoint by itself after arrival.')
    dwell_s: float = tunable(10.0, 'Time at the counter for the hand-over before returning home (s).',
                             min=0.0, max=600.0)

    @property
    def resume_within(self) -> float:
        """``resume_distance``, never beyond ``follow_distance`` (resuming must mean following)."""
        return min(self.resume_distance, self.follow_distance)


# What the escort says ------------------------------------------------------------------------
class _ByLanguage(StrictModel):
    """One sentence per language; German and Turkish are required, others (en) optional."""

    model_config = {**StrictModel.model_config, 'extra': 'allow'}
    de: str
    tr: str

    def texts(self) -> dict[str, str]:
        extra = {str(k): v for k, v in (self.model_extra or {}).items()}
        bad = [k for k, v in extra.items() if not isinstance(v, str)]
        if bad:
            raise ValueError(f'{bad[0]}: must be a string')
        return {'de': self.de, 'tr': self.tr, **extra}


class EscortTexts(StrictModel):
    follow_me: _ByLanguage
    arrived: _ByLanguage
    visitor_lost: _ByLanguage


TEXT_KEYS = tuple(EscortTexts.model_fields)


def load_texts(path) -> dict[str, dict[str, str]]:
    """The escort's sentences per key and language; German and Turkish are required for every key."""
    texts = load_model(path, EscortTexts)
    out = {}
    for key in TEXT_KEYS:
        try:
            out[key] = getattr(texts, key).texts()
        except ValueError as exc:
            lang, _, reason = str(exc).partition(': ')
            raise ConfigError(path, f'{key}.{lang}', reason) from None
    return out


# Commands for the node ------------------------------------------------------------------------
@dataclass(frozen=True)
class SendGoal:
    seq: int
    pose: Pose2D


@dataclass(frozen=True)
class CancelGoal:
    seq: int


@dataclass(frozen=True)
class Say:
    """``key`` names a text of config/escort_texts.yaml; the node picks the visitor's language."""

    key: str


@dataclass(frozen=True)
class TellStaff:
    message: str


@dataclass(frozen=True)
class Finish:
    outcome: EscortOutcome
    message: str


Command = SendGoal | CancelGoal | Say | TellStaff | Finish


@dataclass(frozen=True)
class Person:
    id: int
    x: float
    y: float


class EscortPolicy:
    """One escort from start to outcome. Times are seconds on the node's clock."""

    def __init__(self, config: EscortConfig, target_id: str, goal: Pose2D, *, with_visitor: bool,
                 visitor_id: int = 0):
        self.config, self.target_id, self.goal = config, target_id, goal
        self.with_visitor = with_visitor
        self.visitor_id = visitor_id
        self.phase = Phase.NAVIGATING
        self.visitor_status = VisitorStatus.VISITOR_NONE
        self.visitor_distance = math.nan
        self.distance_remaining = math.nan
        self.outcome: EscortOutcome | None = None
        self.message = ''
        self.robot: Pose2D | None = None
        self.path_length = 0.0
        self.pauses = 0
        self.retries = 0
        self._seq = 0
        self._goal_active = False
        self._people: list[Person] = []
        self._visitor_pos: tuple[float, float] | None = None
        self._last_seen = 0.0
        self._behind_since: float | None = None
        self._waiting_since = 0.0
        self._last_prompt = 0.0
        self._retry_at = 0.0
        self._progress: tuple[float, float, float] | None = None  # (x, y, time) of the last real movement
        self._paused_from: Phase | None = None
        self.started = 0.0

    # ---------------------------------------------------------------------------------- inputs
    @property
    def finished(self) -> bool:
        return self.phase is Phase.FINISHED or self.phase is Phase.ARRIVED

    @property
    def goal_seq(self) -> int:
        return self._seq

    def start(self, now: float) -> list[Command]:
        self.started = self._last_seen = now
        return self._send(now)

    def on_pose(self, pose: Pose2D) -> None:
        if self.robot is not None and not self.finished:
            self.path_length += math.hypot(pose.x - self.robot.x, pose.y - self.robot.y)
        self.robot = pose
        self.distance_remaining = math.hypot(self.goal.x - pose.x, self.goal.y - pose.y)

    def on_people(self, people: list[Person]) -> None:
        self._people = people

    def on_nav_distance(self, distance: float) -> None:
        """Distance along the planned path, from the navigator's feedback (better than straight line)."""
        if math.isfinite(distance) and distance > 0.0:
            self.distance_remaining = distance

    def on_nav_result(self, now: float, seq: int, succeeded: bool, reason: str = '') -> list[Command]:
        if seq != self._seq or not self._goal_active or self.finished:
            return []  # a goal we cancelled ourselves, or one from before a retry
        self._goal_active = False
        if succeeded:
            self.distance_remaining = 0.0
            return [Say('arrived'), *self._finish(EscortOutcome.ARRIVED, f'arrived at {self.target_id}', Phase.ARRIVED)]
        if self.retries < self.config.max_retries:
            self.retries += 1
            self.phase, self._retry_at = Phase.RETRYING, now + self.config.retry_delay_s
            return []
        return [TellStaff(f'escort to {self.target_id} failed: {reason or "navigation failed"}'),
                *self._finish(EscortOutcome.NAVIGATION_FAILED,
                              f'navigation to {self.target_id} failed after {self.retries + 1} attempts: {reason}')]

    def on_estop(self) -> list[Command]:
        return [] if self.finished else self._finish(EscortOutcome.ESTOPPED, 'emergency stop')

    def on_cancel(self) -> list[Command]:
        return [] if self.finished else self._finish(EscortOutcome.CANCELED, 'cancelled')

    @property
    def paused(self) -> bool:
        return self.phase is Phase.PAUSED

    def on_pause(self, now: float) -> list[Command]:
        """Staff hold the escort: the robot stops now and waits, however long it takes."""
        if self.finished or self.paused:
            return []
        self._paused_from = self.phase
        self.phase = Phase.PAUSED
        cmds: list[Command] = [CancelGoal(self._seq)] if self._goal_active else []
        self._goal_active = False
        return cmds

    def on_resume(self, now: float) -> list[Command]:
        """Staff continue: a fresh goal, and every timer starts over (the pause is nobody's fault)."""
        if not self.paused:
            return []
        resumed_from, self._paused_from = self._paused_from, None
        self._last_seen = now
        if resumed_from is Phase.WAITING:  # still waiting for the visitor: wait (and ask) afresh
            self.phase, self._waiting_since, self._last_prompt = Phase.WAITING, now, now
            return [Say('follow_me')]
        return self._send(now)

    def on_shutdown(self) -> list[Command]:
        return [] if self.finished else self._finish(EscortOutcome.NAVIGATION_FAILED, 'robot software shutting down')

    def tick(self, now: float) -> list[Command]:
        """Periodic check: visitor distance, pausing and resuming, retries, giving up."""
        if self.finished or self.paused:
            return []
        cmds: list[Command] = []
        if self.with_visitor:
            self._watch_visitor(now)
        if self.phase is Phase.NAVIGATING and self._goal_active and self._stalled(now):
            seq = self._seq
            cmds += [CancelGoal(seq), *self.on_nav_result(now, seq, False, 'no progress')]
            return cmds
        if self.phase is Phase.RETRYING and now >= self._retry_at:
            cmds += self._send(now)
        elif self.phase is Phase.NAVIGATING and self.with_visitor:
            if self._behind_since is not None and now - self._behind_since >= self.config.pause_after_s:
                self.phase, self._waiting_since, self._last_prompt = Phase.WAITING, now, now
                self.pauses += 1
                cmds += [CancelGoal(self._seq), Say('follow_me')] if self._goal_active else [Say('follow_me')]
                self._goal_active = False
        elif self.phase is Phase.WAITING:
            if self.visitor_status is VisitorStatus.VISITOR_FOLLOWING and self.visitor_distance <= self.config.resume_within:
                cmds += self._send(now)
            elif now - self._waiting_since >= self.config.give_up_s:
                self.visitor_status = VisitorStatus.VISITOR_LOST
                cmds += [TellStaff(f'visitor lost on the way to {self.target_id}'),
                         *self._finish(EscortOutcome.VISITOR_LOST,
                                       f'visitor did not follow for {self.config.give_up_s:.0f} s')]
            elif now - self._last_prompt >= self.config.prompt_interval_s:
                self._last_prompt = now
                cmds.append(Say('follow_me'))
        return cmds

    # ---------------------------------------------------------------------------------- internals
    def _stalled(self, now: float) -> bool:
        if self.robot is None:
            return False
        if self._progress is None or math.hypot(self.robot.x - self._progress[0],
                                                self.robot.y - self._progress[1]) >= self.config.stall_distance:
            self._progress = (self.robot.x, self.robot.y, now)
            return False
        return now - self._progress[2] >= self.config.stall_timeout_s

    def _send(self, now: float) -> list[Command]:
        self._progress = None if self.robot is None else (self.robot.x, self.robot.y, now)
        self._seq += 1
        self._goal_active = True
        self.phase = Phase.NAVIGATING
        self._behind_since = None
        return [SendGoal(self._seq, self.goal)]

    def _finish(self, outcome: EscortOutcome, message: str, phase: Phase = Phase.FINISHED) -> list[Command]:
        cmds: list[Command] = [CancelGoal(self._seq)] if self._goal_active else []
        self._goal_active = False
        self.phase, self.outcome, self.message = phase, outcome, message
        return [*cmds, Finish(outcome, message)]

    def _watch_visitor(self, now: float) -> None:
        visitor = self._find_visitor() if self.robot is not None else None
        if visitor is not None:
            self.visitor_id, self._visitor_pos, self._last_seen = visitor.id, (visitor.x, visitor.y), now
            self.visitor_distance = math.hypot(visitor.x - self.robot.x, visitor.y - self.robot.y)
            if self.visitor_distance <= self.config.follow_distance:
                self.visitor_status, self._behind_since = VisitorStatus.VISITOR_FOLLOWING, None
                return
            self.visitor_status = VisitorStatus.VISITOR_FALLING_BEHIND
            if self._behind_since is None:
                self._behind_since = now
            return
        # Out of sight: a short gap in the tracks is normal; only a longer one counts as falling behind.
        if self._behind_since is None:
            self._behind_since = self._last_seen
        if now - self._last_seen >= self.config.pause_after_s:
            self.visitor_status = VisitorStatus.VISITOR_NONE if self._visitor_pos is None else VisitorStatus.VISITOR_FALLING_BEHIND

    def _find_visitor(self) -> Person | None:
        by_id = {p.id: p for p in self._people}
        if self.visitor_id in by_id:
            return by_id[self.visitor_id]
        if self.robot is None or not self._people:
            return None
        if self._visitor_pos is None:
            # Not picked yet: the nearest person within reach, preferring those behind the robot.
            def cost(p: Person) -> float:
                ahead, _ = self.robot.to_local(p.x, p.y)
                return math.hypot(p.x - self.robot.x, p.y - self.robot.y) + (1.0 if ahead > 0.3 else 0.0)
            near = [p for p in self._people
                    if math.hypot(p.x - self.robot.x, p.y - self.robot.y) <= self.config.pick_radius]
            return min(near, key=cost) if near else None
        # The visitor's track vanished: continue with a new track where they were last seen.
        vx, vy = self._visitor_pos
        near = [p for p in self._people if math.hypot(p.x - vx, p.y - vy) <= self.config.reacquire_radius]
        if not near and self.phase is Phase.WAITING:
            # While waiting, someone who walks up behind the robot is taken as the returning visitor.
            near = [p for p in self._people
                    if math.hypot(p.x - self.robot.x, p.y - self.robot.y) <= self.config.resume_within
                    and self.robot.to_local(p.x, p.y)[0] <= 0.3]
        return min(near, key=lambda p: math.hypot(p.x - vx, p.y - vy)) if near else None

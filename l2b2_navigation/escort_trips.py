"""What the robot is doing between and around escorts: one trip at a time, hand-over, going home, pausing.

:class:`~l2b2_navigation.escort.EscortPolicy` walks one visitor to one place. Around it, the robot
also waits at the counter for the hand-over (``dwell_s``) and then drives home by itself, says
goodbye and goes home when the visitor was lost, lets staff hold the escort, the hand-over or the
trip home, and drops the trip home when a new visitor needs it. Those rules live here, without ROS,
so they are tested on a fake clock (``test/l2b2_navigation/test_escort_trips.py``); ``escort_node``
feeds :class:`Trips` and carries out the orders it returns, each order a policy command tagged
with the trip it belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass

from l2b2_common.codes import EscortOutcome, HealthLevel
from l2b2_common.geometry import Pose2D
from l2b2_navigation.escort import Command, EscortConfig, EscortPolicy, Finish, Say


@dataclass(eq=False)
class Trip:
    """One escort (``for_visitor``: an Escort action goal waits for it) or a trip home by itself."""

    policy: EscortPolicy
    language: str
    #: What /robot/status shows: 'escorting', 'going_to' or 'returning'.
    mode: str
    for_visitor: bool
    started: float
    done: bool = False


@dataclass(frozen=True)
class SetHealth:
    """Tell staff through the escort's health; ``unless_warning``: keep a standing warning (visitor lost)."""

    level: HealthLevel
    message: str
    unless_warning: bool = False


@dataclass(frozen=True)
class Note:
    """Something for the log (no visitor data in it)."""

    message: str


Order = tuple[Trip | None, Command | SetHealth | Note]


class Trips:
    """The current trip and what comes after it. Times are seconds on the node's clock."""

    def __init__(self, config: EscortConfig, home: str, home_pose: Pose2D):
        self.config, self.home, self.home_pose = config, home, home_pose
        self.trip: Trip | None = None
        #: When to drive home by itself (hand-over dwell, or at once after a lost visitor).
        self.return_at: float | None = None
        #: Staff paused the hand-over dwell: the robot stays at the counter until they continue.
        self.home_held = False
        self.handover_target = ''
        self.estop_active = False

    @property
    def under_way(self) -> bool:
        """A trip runs or a return home is due: the node ticks. Otherwise the escort is idle."""
        return self.trip is not None or self.return_at is not None

    # --------------------------------------------------------------------------------------- inputs
    def refusal(self) -> tuple[EscortOutcome, str] | None:
        """Why a new escort goal cannot start now (the target itself is checked by the node)."""
        if self.estop_active:
            return EscortOutcome.ESTOPPED, 'emergency stop is active'
        if self.trip is not None and self.trip.for_visitor:
            return EscortOutcome.BUSY, f'already escorting to {self.trip.policy.target_id}'
        return None

    def begin(self, target_id: str, goal: Pose2D, now: float, *, language: str, with_visitor: bool,
              visitor_id: int = 0, robot: Pose2D | None = None) -> tuple[Trip, list[Order]]:
        """A new escort: it supersedes a trip home and a pending return."""
        orders: list[Order] = []
        if self.trip is not None:  # going home: the new visitor comes first
            orders += self._run(self.trip, self.trip.policy.on_cancel(), now)
        self.return_at, self.home_held = None, False
        policy = EscortPolicy(self.config, target_id, goal, with_visitor=with_visitor, visitor_id=visitor_id)
        if robot is not None:
            policy.on_pose(robot)
        trip = self.trip = Trip(policy, language, 'escorting' if with_visitor else 'going_to', True, now)
        orders.append((trip, Note(f'escort to {target_id} (with_visitor={with_visitor})')))
        orders.append((trip, SetHealth(HealthLevel.OK, f'{"escorting" if with_visitor else "going"} to {target_id}')))
        return trip, orders + self._run(trip, policy.start(now), now)

    def tick(self, now: float, robot: Pose2D | None) -> list[Order]:
        """Periodic while :attr:`under_way`: the policy's timers, or the due return home."""
        trip = self.trip
        if trip is None:
            if self.return_at is not None and now >= self.return_at:
                return self._go_home(now, robot)
            return []
        if robot is not None:
            trip.policy.on_pose(robot)
        return self._run(trip, trip.policy.tick(now), now)

    def nav_result(self, trip: Trip, now: float, seq: int, succeeded: bool, reason: str = '') -> list[Order]:
        return self._run(trip, trip.policy.on_nav_result(now, seq, succeeded, reason), now)

    def cancel(self, trip: Trip, now: float) -> list[Order]:
        return self._run(trip, trip.policy.on_cancel(), now)

    def estop(self, active: bool, now: float) -> list[Order]:
        """The emergency stop ends the trip and forgets any return home (staff restart things)."""
        self.estop_active = active
        if not active:
            return []
        self.return_at, self.home_held = None, False
        return self._run(self.trip, self.trip.policy.on_estop(), now) if self.trip is not None else []

    def pause(self, hold: bool, now: float) -> tuple[bool, str, list[Order]]:
        """Staff hold (``hold``) or continue the escort, the trip home or the hand-over before it."""
        trip = self.trip
        if hold:
            if trip is not None and not trip.policy.paused:
                orders = self._run(trip, trip.policy.on_pause(now), now)
                return True, f'paused on the way to {trip.policy.target_id}', orders
            if trip is not None:
                return True, 'already paused', []
            if self.return_at is not None:
                self.return_at, self.home_held = None, True
                return True, f'staying at {self.handover_target}', []
            return False, 'no escort under way', []
        if trip is not None and trip.policy.paused:
            orders = self._run(trip, trip.policy.on_resume(now), now)
            return True, f'continuing to {trip.policy.target_id}', orders
        if self.home_held:
            self.home_held, self.return_at = False, now
            return True, 'returning home', []
        return False, 'nothing is paused', []

    def shutdown(self, now: float) -> list[Order]:
        return self._run(self.trip, self.trip.policy.on_shutdown(), now) if self.trip is not None else []

    def status(self, estop_active: bool, teleop_active: bool) -> tuple[str, str]:
        """(mode, target) for /robot/status."""
        if estop_active:
            return 'estop', ''
        if teleop_active:
            return 'teleop', ''
        if self.trip is not None:
            policy = self.trip.policy
            return ('paused' if policy.paused else self.trip.mode), policy.target_id
        if self.home_held:
            return 'paused', self.handover_target
        if self.return_at is not None:  # hand-over at the counter before going home
            return 'escorting', self.handover_target
        return 'idle', ''

    # ------------------------------------------------------------------------------------ internals
    def _run(self, trip: Trip, commands: list[Command], now: float) -> list[Order]:
        """Tag the policy's commands with their trip; a Finish also decides what comes next."""
        orders: list[Order] = []
        for cmd in commands:
            orders.append((trip, cmd))
            if isinstance(cmd, Finish):
                orders += self._finished(trip, cmd, now)
        return orders

    def _finished(self, trip: Trip, cmd: Finish, now: float) -> list[Order]:
        trip.done = True
        if self.trip is trip:
            self.trip = None
        target = trip.policy.target_id
        if not trip.for_visitor:
            if cmd.outcome is EscortOutcome.ARRIVED:
                return [(None, SetHealth(HealthLevel.OK, 'at home'))]
            if cmd.outcome is not EscortOutcome.CANCELED:
                return [(None, SetHealth(HealthLevel.DEGRADED, f'could not return home: {cmd.message}'))]
            return []
        orders: list[Order] = []
        if cmd.outcome is EscortOutcome.ARRIVED:
            orders.append((None, SetHealth(HealthLevel.OK, f'arrived at {target}')))
        if not self.config.return_home or target == self.home:
            return orders
        if cmd.outcome is EscortOutcome.ARRIVED:
            self.return_at, self.handover_target = now + self.config.dwell_s, target  # hand-over, then home
        elif cmd.outcome is EscortOutcome.VISITOR_LOST:
            orders.append((trip, Say('visitor_lost')))
            self.return_at, self.handover_target = now, target
        return orders

    def _go_home(self, now: float, robot: Pose2D | None) -> list[Order]:
        self.return_at = None
        if self.estop_active:
            return []
        policy = EscortPolicy(self.config, self.home, self.home_pose, with_visitor=False)
        if robot is not None:
            policy.on_pose(robot)
        trip = self.trip = Trip(policy, 'de', 'returning', False, now)
        orders: list[Order] = [(trip, Note('returning home')),
                               (None, SetHealth(HealthLevel.OK, 'returning home', unless_warning=True))]
        return orders + self._run(trip, policy.start(now), now)

"""The escort's message building: /robot/status, Escort feedback and result, poses, /speech/say, navigator results.

Split out of ``escort_node`` so that the node stays wiring (subscriptions, timers, the action, the
navigator calls) and under the project's module size. Plain functions of their inputs, plus the small
:class:`StatusGate` deciding when /robot/status goes out: no node, no clock.
"""
from __future__ import annotations

import math

from action_msgs.msg import GoalStatus
from geometry_msgs.msg import Pose, PoseStamped, Quaternion
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth, RobotStatus, SayRequest, TrackedPeople

from l2b2_common.calls import NO_SERVER, CallOutcome
from l2b2_common.catalog import Catalog
from l2b2_common.geometry import Pose2D, quaternion_msg_fields, yaw_from_msg
from l2b2_navigation.escort import EscortPolicy, Person, Phase

_STATUS = {GoalStatus.STATUS_ABORTED: 'aborted', GoalStatus.STATUS_CANCELED: 'canceled by the navigator'}


def pose_msg(pose: Pose2D | None, frame: str, stamp) -> PoseStamped:
    """``pose`` in ``frame``; without a pose, an empty (identity) one with the header set."""
    msg = PoseStamped()
    msg.header.frame_id = frame
    msg.header.stamp = stamp
    if pose is not None:
        msg.pose = Pose()
        msg.pose.position.x, msg.pose.position.y = pose.x, pose.y
        msg.pose.orientation = Quaternion(**quaternion_msg_fields(pose.yaw))
    return msg


def pose_from_msg(msg: PoseStamped, frame: str) -> Pose2D | None:
    """The planar pose of ``msg`` if it is in ``frame`` (or names no frame), else None."""
    if msg.header.frame_id not in ('', frame):
        return None
    p = msg.pose.position
    return Pose2D(p.x, p.y, yaw_from_msg(msg.pose.orientation))


def persons(msg: TrackedPeople) -> list[Person]:
    """The tracked people as the policy sees them."""
    return [Person(int(p.id), float(p.position.x), float(p.position.y)) for p in msg.people]


def feedback_msg(policy: EscortPolicy, pose: PoseStamped) -> Escort.Feedback:
    """The action feedback for one escort; unknown distances are -1."""
    fb = Escort.Feedback()
    fb.phase = str(policy.phase.value if policy.phase is not Phase.FINISHED else Phase.ARRIVED.value)
    fb.distance_remaining = float(policy.distance_remaining) if math.isfinite(policy.distance_remaining) else -1.0
    fb.visitor_status = int(policy.visitor_status)
    fb.visitor_distance = float(policy.visitor_distance) if math.isfinite(policy.visitor_distance) else -1.0
    fb.current_pose = pose
    return fb


def status_key(mode: str, target: str, estop: bool, level: int, battery: float, pose: Pose2D | None) -> tuple:
    """What /robot/status says, coarsened: a change in it (the pose by 5 cm or 3°) is worth sending."""
    return (mode, target, estop, level, round(battery) if math.isfinite(battery) else None,
            None if pose is None else (round(pose.x / 0.05), round(pose.y / 0.05), round(pose.yaw / 0.05)))


class StatusGate:
    """When /robot/status goes out: when its :func:`status_key` changed, else as heartbeat."""

    def __init__(self, heartbeat_s: float):
        self.heartbeat_s = heartbeat_s
        self._last: tuple | None = None
        self._last_at = -math.inf

    def due(self, key: tuple, now: float, changed_only: bool) -> bool:
        """Whether to send now (steady seconds); ``changed_only``: only if ``key`` changed, else as heartbeat."""
        if key == self._last and (changed_only or now - self._last_at < 0.5 * self.heartbeat_s):
            return False  # unchanged; as heartbeat: a change went out moments ago, that was the heartbeat
        self._last, self._last_at = key, now
        return True


def robot_status_msg(stamp, frame: str, pose: PoseStamped, estop: bool, mode: str, target: str,
                     battery: float, level: int) -> RobotStatus:
    """/robot/status, with the escort's own health as its one component."""
    status = RobotStatus()
    status.header.stamp = stamp
    status.header.frame_id = frame
    status.pose = pose
    status.estop_active = estop
    status.mode, status.escort_target_id = mode, target
    status.battery_percent = battery
    health = ComponentHealth(component='escort', level=level)
    health.header.stamp = status.header.stamp
    status.components = [health]
    return status


def say_request(texts: dict[str, dict[str, str]], catalog: Catalog, key: str, language: str, target: str,
                utterance_id: str) -> SayRequest:
    """Sentence ``key`` in ``language`` (else German), naming ``target`` as the catalog does; unstamped."""
    by_lang = texts[key]
    lang = language if language in by_lang else 'de'
    name, hint = target, ''
    if target in catalog:
        name = catalog[target].display_name(lang)
        hint = catalog[target].location_hint.get(lang, '')
    return SayRequest(utterance_id=utterance_id, language=lang,
                      text=by_lang[lang].format(target=name, hint=hint).strip(),
                      priority=SayRequest.PRIORITY_NORMAL, interruptible=False)


def result_msg(policy: EscortPolicy, elapsed_s: float) -> Escort.Result:
    """The action result of a finished escort."""
    return Escort.Result(outcome=int(policy.outcome), message=policy.message, elapsed_s=float(max(0.0, elapsed_s)),
                         path_length_m=float(policy.path_length))


def nav_result(outcome: CallOutcome) -> tuple[bool, str]:
    """Whether a NavigateToPose call (its goal answer or its ``get_result`` response) succeeded, and if not, why."""
    if not outcome.ok:
        return False, ('navigation server not available' if outcome.reason == NO_SERVER else
                       f'navigation server: {outcome.reason}')
    response = outcome.value
    ok = response.status == GoalStatus.STATUS_SUCCEEDED
    reason = '' if ok else (response.result.error_msg or _STATUS.get(response.status, 'failed'))
    if not ok and response.result.error_code:
        reason += f' (error {response.result.error_code})'
    return ok, reason

"""The pure escort policy: walking, pausing for the visitor, resuming, giving up, retries, stop and cancel."""
from __future__ import annotations

from l2b2_common.codes import EscortOutcome, VisitorStatus
from l2b2_common.geometry import Pose2D
from l2b2_navigation.escort import (
    CancelGoal,
    EscortConfig,
    EscortPolicy,
    Finish,
    Person,
    Phase,
    Say,
    SendGoal,
    TellStaff,
)

CONFIG = EscortConfig(follow_distance=3.0, resume_distance=2.0, pause_after_s=1.0, prompt_interval_s=5.0,
                      give_up_s=20.0, max_retries=2, retry_delay_s=1.0)
GOAL = Pose2D(10.0, 0.0, 0.0)


def started(with_visitor=True, visitor_id=0):
    policy = EscortPolicy(CONFIG, 'meldestelle', GOAL, with_visitor=with_visitor, visitor_id=visitor_id)
    policy.on_pose(Pose2D(0.0, 0.0, 0.0))
    assert policy.start(0.0) == [SendGoal(1, GOAL)]
    return policy


def kinds(cmds):
    return [type(c).__name__ for c in cmds]


def test_following_visitor_walks_to_arrival_and_counts_the_path():
    policy = started()
    for step in range(1, 50):
        x = step * 0.2
        policy.on_pose(Pose2D(x, 0.0, 0.0))
        policy.on_people([Person(5, x - 1.0, 0.0), Person(9, x + 4.0, 1.0)])
        assert policy.tick(step * 0.1) == []
        assert policy.visitor_status is VisitorStatus.VISITOR_FOLLOWING and policy.visitor_id == 5
    cmds = policy.on_nav_result(5.0, 1, True)
    assert cmds[0] == Say('arrived') and cmds[-1] == Finish(EscortOutcome.ARRIVED, 'arrived at meldestelle')
    assert policy.phase is Phase.ARRIVED and abs(policy.path_length - 9.8) < 1e-6


def test_falling_behind_pauses_prompts_and_resumes_when_close_again():
    policy = started(visitor_id=5)
    policy.on_people([Person(5, -4.0, 0.0)])
    assert policy.tick(0.5) == []
    assert policy.visitor_status is VisitorStatus.VISITOR_FALLING_BEHIND
    assert policy.tick(1.6) == [CancelGoal(1), Say('follow_me')]
    assert policy.phase is Phase.WAITING
    assert policy.on_nav_result(1.7, 1, False, 'canceled') == []  # our own cancel is not a failure
    assert policy.tick(6.7) == [Say('follow_me')]
    policy.on_people([Person(5, -1.5, 0.0)])
    assert policy.tick(7.0) == [SendGoal(2, GOAL)]
    assert policy.phase is Phase.NAVIGATING and policy.pauses == 1


def test_visitor_who_leaves_is_given_up_and_staff_are_told():
    policy = started(visitor_id=5)
    policy.on_people([Person(5, -1.0, 0.0)])
    policy.tick(0.1)
    policy.on_people([])
    assert policy.tick(0.5) == []  # a short gap in the tracks is normal
    assert policy.tick(1.2) == [CancelGoal(1), Say('follow_me')]
    cmds = policy.tick(21.3)
    assert kinds(cmds) == ['TellStaff', 'Finish'] and cmds[-1].outcome is EscortOutcome.VISITOR_LOST
    assert policy.visitor_status is VisitorStatus.VISITOR_LOST


def test_new_track_where_the_visitor_vanished_continues_the_visitor():
    policy = started(visitor_id=5)
    policy.on_people([Person(5, -1.0, 0.0)])
    policy.tick(0.1)
    policy.on_people([Person(12, -1.2, 0.1), Person(13, 2.0, 2.0)])
    policy.tick(0.2)
    assert policy.visitor_id == 12 and policy.visitor_status is VisitorStatus.VISITOR_FOLLOWING


def test_failed_goal_is_retried_then_reported():
    policy = started(with_visitor=False)
    assert policy.on_nav_result(1.0, 1, False, 'no path') == []
    assert policy.phase is Phase.RETRYING
    assert policy.tick(1.5) == []
    assert policy.tick(2.0) == [SendGoal(2, GOAL)]
    policy.on_nav_result(3.0, 2, False, 'no path')
    assert policy.tick(4.0) == [SendGoal(3, GOAL)]
    cmds = policy.on_nav_result(5.0, 3, False, 'no path')
    assert isinstance(cmds[0], TellStaff) and cmds[-1].outcome is EscortOutcome.NAVIGATION_FAILED


def test_estop_and_cancel_stop_the_goal_at_once():
    policy = started(with_visitor=False)
    assert policy.on_estop() == [CancelGoal(1), Finish(EscortOutcome.ESTOPPED, 'emergency stop')]
    assert policy.on_cancel() == []
    other = started(with_visitor=False)
    assert other.on_cancel() == [CancelGoal(1), Finish(EscortOutcome.CANCELED, 'cancelled')]


def test_nobody_to_escort_waits_and_starts_when_someone_comes_behind():
    policy = started()
    policy.on_people([])
    policy.tick(0.5)
    assert policy.tick(1.1) == [CancelGoal(1), Say('follow_me')]
    assert policy.visitor_status is VisitorStatus.VISITOR_NONE
    policy.on_people([Person(3, -1.0, 0.5)])
    assert policy.tick(1.5) == [SendGoal(2, GOAL)]


def test_goal_without_progress_is_cancelled_and_retried():
    policy = started(with_visitor=False)
    policy.on_pose(Pose2D(0.1, 0.0, 0.0))
    assert policy.tick(50.0) == []
    cmds = policy.tick(91.0)
    assert cmds == [CancelGoal(1)] and policy.phase is Phase.RETRYING
    assert policy.tick(92.5) == [SendGoal(2, GOAL)]


def test_staff_pause_holds_the_robot_and_nothing_times_out_until_they_continue():
    policy = started(visitor_id=5)
    policy.on_people([])  # the visitor is out of sight during the pause: that is not their fault
    assert policy.on_pause(0.5) == [CancelGoal(1)]
    assert policy.phase is Phase.PAUSED and policy.on_pause(0.6) == []
    assert policy.on_nav_result(0.7, 1, False, 'canceled') == []
    for t in (2.0, 10.0, 100.0, 1000.0):  # far past pause_after_s, prompt_interval_s and give_up_s
        assert policy.tick(t) == []
    assert policy.outcome is None and policy.pauses == 0
    policy.on_people([Person(5, -1.0, 0.0)])
    assert policy.on_resume(1000.5) == [SendGoal(2, GOAL)]
    assert policy.phase is Phase.NAVIGATING and policy.tick(1000.6) == []
    assert policy.on_resume(1000.7) == []  # continuing what is not paused does nothing


def test_pause_while_waiting_for_the_visitor_waits_afresh_afterwards():
    policy = started(visitor_id=5)
    policy.on_people([Person(5, -4.0, 0.0)])
    policy.tick(0.5)
    assert policy.tick(1.6) == [CancelGoal(1), Say('follow_me')]
    assert policy.on_pause(2.0) == []  # no goal to cancel: the robot already holds
    assert policy.tick(500.0) == []
    assert policy.on_resume(500.0) == [Say('follow_me')] and policy.phase is Phase.WAITING
    assert policy.tick(519.0) == [Say('follow_me')]  # still asking: give_up_s (20) counts from the resume
    assert kinds(policy.tick(520.1)) == ['TellStaff', 'Finish']


def test_estop_and_cancel_still_end_a_paused_escort():
    policy = started()
    policy.on_pause(0.5)
    assert policy.on_estop() == [Finish(EscortOutcome.ESTOPPED, 'emergency stop')]
    other = started()
    other.on_pause(0.5)
    assert other.on_cancel() == [Finish(EscortOutcome.CANCELED, 'cancelled')]

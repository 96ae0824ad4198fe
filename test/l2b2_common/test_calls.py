"""The one bounded call: answers, no server, no answer in time, late servers, dropped calls and result watches,
on a real rclpy graph."""
from __future__ import annotations

from threading import Event, Lock

from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from std_srvs.srv import SetBool

from l2b2_common.calls import NO_ANSWER, NO_SERVER, SERVER_GONE, BoundedCaller


class Outcomes:
    """Collects on_done calls; the test fails if one call ends twice."""

    def __init__(self):
        self.items = []
        self._lock = Lock()

    def __call__(self, outcome):
        with self._lock:
            self.items.append(outcome)


def _setup(ros):
    node = ros.node('caller')
    return node, BoundedCaller(node)


def test_service_answer_arrives_once(ros):
    node, caller = _setup(ros)
    server = ros.node('server')
    server.create_service(SetBool, '/t/set', lambda req, res: setattr(res, 'success', req.data) or res)
    got = Outcomes()
    caller.call(node.create_client(SetBool, '/t/set'), SetBool.Request(data=True), got,
                server_wait_s=10.0, answer_timeout_s=10.0)
    ros.wait_for(lambda: got.items, 10, 'the answer')
    assert got.items[0].ok and got.items[0].value.success is True
    ros.wait_for(lambda: caller.pending == 0, 5, 'nothing pending')
    assert len(got.items) == 1


def test_no_server_ends_unavailable_after_the_wait(ros):
    node, caller = _setup(ros)
    got = Outcomes()
    start = node.get_clock().now().nanoseconds * 1e-9
    caller.call(node.create_client(SetBool, '/t/nobody'), SetBool.Request(), got,
                server_wait_s=0.3, answer_timeout_s=5.0)
    ros.wait_for(lambda: got.items, 10, 'the outcome')
    ended = node.get_clock().now().nanoseconds * 1e-9
    assert not got.items[0].ok and got.items[0].reason == NO_SERVER
    assert ended - start >= 0.3  # not before the server had its time to appear
    assert caller.pending == 0


def test_a_server_that_never_answers_ends_with_no_answer(ros):
    node, caller = _setup(ros)
    server = ros.node('server')
    release = Event()
    # Answers only when released: the call must not wait for it beyond its deadline.
    server.create_service(SetBool, '/t/slow', lambda req, res: release.wait(30) and res,
                          callback_group=ReentrantCallbackGroup())
    got = Outcomes()
    caller.call(node.create_client(SetBool, '/t/slow'), SetBool.Request(), got,
                server_wait_s=10.0, answer_timeout_s=0.3)
    ros.wait_for(lambda: got.items, 10, 'the time-out')
    release.set()
    assert not got.items[0].ok and got.items[0].reason == NO_ANSWER
    assert len(got.items) == 1


def test_a_server_that_appears_late_is_still_called(ros):
    node, caller = _setup(ros)
    got = Outcomes()
    caller.call(node.create_client(SetBool, '/t/late'), SetBool.Request(data=True), got,
                server_wait_s=20.0, answer_timeout_s=10.0)
    ros.wait_for(lambda: caller.pending == 1, 5, 'the call pending')
    server = ros.node('late_server')
    server.create_service(SetBool, '/t/late', lambda req, res: setattr(res, 'success', True) or res)
    ros.wait_for(lambda: got.items, 20, 'the answer from the late server')
    assert got.items[0].ok and got.items[0].value.success


def test_a_dropped_call_never_reports(ros):
    node, caller = _setup(ros)
    got = Outcomes()
    pending = caller.call(node.create_client(SetBool, '/t/none'), SetBool.Request(), got,
                          server_wait_s=0.2, answer_timeout_s=0.2)
    pending.cancel()
    assert caller.pending == 0
    # A second call on the same caller ends; by then the dropped one would have ended too.
    second = Outcomes()
    caller.call(node.create_client(SetBool, '/t/none'), SetBool.Request(), second,
                server_wait_s=0.4, answer_timeout_s=0.2)
    ros.wait_for(lambda: second.items, 10, 'the second call to end')
    assert got.items == []


class _Nav:
    """A NavigateToPose server whose acceptance and result the test controls."""

    def __init__(self, ros, name: str, accept=True, accept_after: Event | None = None):
        self.node = ros.node('nav_server')
        self.release, self.accept_after = Event(), accept_after
        self.cancels = 0
        self.server = ActionServer(
            self.node, NavigateToPose, name, execute_callback=self._execute,
            goal_callback=self._goal, cancel_callback=self._cancel, callback_group=ReentrantCallbackGroup())
        self.accept = accept

    def _goal(self, _goal):
        if self.accept_after is not None:
            self.accept_after.wait(30)
        return GoalResponse.ACCEPT if self.accept else GoalResponse.REJECT

    def _cancel(self, _handle):
        self.cancels += 1
        self.release.set()
        return CancelResponse.ACCEPT

    def _execute(self, handle):
        self.release.wait(30)
        if handle.is_cancel_requested:
            handle.canceled()
        else:
            handle.succeed()
        return NavigateToPose.Result()


def test_action_goal_accepted_and_result_watched(ros):
    node, caller = _setup(ros)
    nav = _Nav(ros, '/t/nav_result')
    client = ActionClient(node, NavigateToPose, '/t/nav_result')
    sent, result = Outcomes(), Outcomes()
    caller.call(client, NavigateToPose.Goal(), sent, server_wait_s=10.0, answer_timeout_s=10.0)
    ros.wait_for(lambda: sent.items, 10, 'the goal response')
    handle = sent.items[0].value
    assert sent.items[0].ok and handle.accepted
    caller.watch_result(handle, result, server_gone_s=1.0)
    nav.release.set()
    ros.wait_for(lambda: result.items, 10, 'the result')
    assert result.items[0].ok and result.items[0].value.status == 4  # GoalStatus.STATUS_SUCCEEDED


def test_action_goal_rejected_is_an_answer(ros):
    node, caller = _setup(ros)
    _Nav(ros, '/t/nav_reject', accept=False)
    sent = Outcomes()
    caller.call(ActionClient(node, NavigateToPose, '/t/nav_reject'), NavigateToPose.Goal(), sent,
                server_wait_s=10.0, answer_timeout_s=10.0)
    ros.wait_for(lambda: sent.items, 10, 'the goal response')
    assert sent.items[0].ok and not sent.items[0].value.accepted


def test_goal_accepted_after_its_deadline_is_cancelled(ros):
    node, caller = _setup(ros)
    gate = Event()
    nav = _Nav(ros, '/t/nav_late', accept_after=gate)
    sent = Outcomes()
    caller.call(ActionClient(node, NavigateToPose, '/t/nav_late'), NavigateToPose.Goal(), sent,
                server_wait_s=10.0, answer_timeout_s=0.3)
    ros.wait_for(lambda: sent.items, 10, 'the time-out')
    assert sent.items[0].reason == NO_ANSWER
    gate.set()  # the server accepts now, too late: the caller must cancel the goal nobody follows
    ros.wait_for(lambda: nav.cancels == 1, 10, 'the late goal to be cancelled')
    assert len(sent.items) == 1


def test_result_watch_ends_when_the_server_goes_away(ros):
    node, caller = _setup(ros)
    nav = _Nav(ros, '/t/nav_gone')
    client = ActionClient(node, NavigateToPose, '/t/nav_gone')
    sent, result = Outcomes(), Outcomes()
    caller.call(client, NavigateToPose.Goal(), sent, server_wait_s=10.0, answer_timeout_s=10.0)
    ros.wait_for(lambda: sent.items, 10, 'the goal response')
    caller.watch_result(sent.items[0].value, result, server_gone_s=0.3)
    nav.server.destroy()  # as if its process died mid-goal: no result will ever come
    ros.wait_for(lambda: result.items, 15, 'the watch to give up')
    nav.release.set()
    assert not result.items[0].ok and result.items[0].reason == SERVER_GONE

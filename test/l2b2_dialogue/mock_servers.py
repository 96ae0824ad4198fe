"""Small real ROS servers standing in for the queue bridge and the escort node in dialogue tests.

Like py_trees_ros's mock servers: real rclpy services and a real action server with scripted
answers, so the dialogue node is tested over the real graph without the other areas' code.
"""
from __future__ import annotations

import threading

from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import Appointment
from l2b2_interfaces.srv import CheckIn, DrawTicket, LookupAppointment
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

DEMO_BOOKINGS = {'4711': 'pass_ausweis', '4712': 'meldestelle', '4713': 'auslaenderbehoerde', '4714': 'standesamt'}


class MockQueueBridge(Node):
    """/queue/* services answering from the demo bookings; ``results`` overrides the result codes."""

    def __init__(self, **kwargs):
        super().__init__('mock_queue_bridge', **kwargs)
        self.calls: list[tuple[str, ...]] = []
        self.results: dict[str, int] = {}
        self.tickets = 0
        self.create_service(LookupAppointment, '/queue/lookup_appointment', self._lookup)
        self.create_service(CheckIn, '/queue/check_in', self._check_in)
        self.create_service(DrawTicket, '/queue/draw_ticket', self._draw)

    def _appointment(self, number: str) -> Appointment:
        return Appointment(booking_number=number, status='confirmed', appointment_time='2026-11-22T10:30:00',
                           target_id=DEMO_BOOKINGS.get(number, ''), scope_id=101, display_number=f'T{number[-2:]}')

    def _lookup(self, request, response):
        self.calls.append(('lookup', request.booking_number, request.name))
        found = request.booking_number in DEMO_BOOKINGS
        response.result = self.results.get('lookup', response.OK if found else response.NOT_FOUND)
        if found:
            response.appointment = self._appointment(request.booking_number)
        return response

    def _check_in(self, request, response):
        self.calls.append(('check_in', request.booking_number))
        response.result = self.results.get('check_in', response.OK)
        response.appointment = self._appointment(request.booking_number)
        response.waiting_position, response.estimated_wait_minutes = 3, 9
        return response

    def _draw(self, request, response):
        self.calls.append(('draw_ticket', request.target_id))
        response.result = self.results.get('draw_ticket', response.OK)
        self.tickets += 1
        response.display_number = f'W{100 + self.tickets}'
        response.waiting_count, response.estimated_wait_minutes = 4, 15
        return response


class MockEscortServer(Node):
    """/escort: accepts goals, and finishes each with ``outcome`` once ``release()`` is called (or at once)."""

    def __init__(self, outcome: int = Escort.Result.ARRIVED, hold: bool = False, **kwargs):
        super().__init__('mock_escort', **kwargs)
        self.outcome = outcome
        self.hold = hold
        self.goals: list[Escort.Goal] = []
        self.canceled = threading.Event()
        self._release = threading.Event()
        self._server = ActionServer(self, Escort, '/escort', self._execute, goal_callback=lambda g: GoalResponse.ACCEPT,
                                    cancel_callback=self._cancel, callback_group=ReentrantCallbackGroup())

    def release(self) -> None:
        self._release.set()

    def vanish(self) -> None:
        """The action server goes away as if its process died: held goals never get a result."""
        if self._server is not None:
            self._server.destroy()
            self._server = None

    def _cancel(self, goal_handle):
        self.canceled.set()
        self._release.set()
        return CancelResponse.ACCEPT

    def _execute(self, goal_handle):
        self.goals.append(goal_handle.request)
        if self.hold:
            self._release.wait(timeout=30.0)
            self._release.clear()
        result = Escort.Result(message='mock', elapsed_s=1.0, path_length_m=5.0)
        if goal_handle.is_cancel_requested:
            goal_handle.canceled()
            result.outcome = Escort.Result.CANCELED
            return result
        result.outcome = self.outcome
        if self.outcome == Escort.Result.ARRIVED:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return result

    def destroy_node(self):
        self._release.set()
        self.vanish()
        return super().destroy_node()

"""A small real ROS server standing in for the queue bridge in dialogue tests.

Like py_trees_ros's mock servers: real rclpy services with scripted answers, so the dialogue node is
tested over the real graph without the other areas' code. The escort stand-in is the shared
:class:`l2b2_navigation.fakes.FakeEscort`.
"""
from __future__ import annotations

from l2b2_interfaces.msg import Appointment
from l2b2_interfaces.srv import CheckIn, DrawTicket, LookupAppointment
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

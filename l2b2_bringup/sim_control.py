"""Moving simulated visitors for scenarios, through the simulator's own services (/sim/*)."""
from __future__ import annotations

import math
import time

from l2b2_interfaces.srv import SimSetVisitor, SimSpawnVisitor
from rclpy.node import Node
from std_srvs.srv import Trigger

from l2b2_common.building import building_files
from l2b2_common.maps import load_waypoints

#: A visitor appears this far in front of the robot's home spot and walks up to it.
APPROACH_FROM_M = 3.5


class SimControl:
    """Callable ``(behaviour, args) -> bool`` used by the scenario runner; 'reset' clears the floor."""

    def __init__(self, node: Node, building: str = ''):
        """``building``: the stack's (``Stack.building``); visitors appear in front of its home spot."""
        self._spawn = node.create_client(SimSpawnVisitor, '/sim/spawn_visitor')
        self._set = node.create_client(SimSetVisitor, '/sim/set_visitor')
        self._reset = node.create_client(Trigger, '/sim/reset')
        self._waypoints_file = building_files(building).waypoints
        self.visitor_id = 0

    def available(self, timeout: float = 5.0) -> bool:
        return self._spawn.wait_for_service(timeout_sec=timeout)

    def __call__(self, behaviour: str, args: dict) -> bool:
        if behaviour == 'reset':
            self.visitor_id = 0
            return self._call(self._reset, Trigger.Request()) is not None
        speed = float(args.get('speed', 0.0))
        if behaviour == 'approach' or not self.visitor_id:
            x, y, yaw = self._approach_start()
            response = self._call(self._spawn, SimSpawnVisitor.Request(x=x, y=y, yaw=yaw, behaviour=behaviour,
                                                                        speed=speed))
            if response is None or not response.success:
                return False
            self.visitor_id = response.id
            return True
        response = self._call(self._set, SimSetVisitor.Request(id=self.visitor_id, behaviour=behaviour, speed=speed))
        return bool(response and response.success)

    def _approach_start(self) -> tuple[float, float, float]:
        home = load_waypoints(self._waypoints_file)['home']
        x, y = home.x + APPROACH_FROM_M * math.cos(home.yaw), home.y + APPROACH_FROM_M * math.sin(home.yaw)
        return x, y, home.yaw + math.pi  # facing the robot

    @staticmethod
    def _call(client, request, timeout: float = 10.0):
        if not client.wait_for_service(timeout_sec=timeout):
            return None
        future = client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        return future.result() if future.done() else None

"""``l2b2-simulator``: the robot base, its lidar and the visitors, simulated, with the robot's ROS interfaces.

Drives the pybullet world (``l2b2_sim.world``) from /cmd_vel and publishes /clock, /odom, /tf
(map -> odom -> base_link -> laser; map and odom coincide: perfect localisation), /scan, /battery,
and the visitors' ground truth on /sim/visitors (for scoring only, never for the robot).

/battery (``sensor_msgs/BatteryState``, once per sim second) follows the battery model of
config/office.yaml (``l2b2_office.battery.BatteryModel``): idle power always, more while the base moves
and while /speech/status says SPEAKING; it charges only while the base stands on the dock pose (the same
pose the docking server ``l2b2-sim-dock`` drives onto), then ``power_supply_status`` is CHARGING (FULL
at 100 %) and ``location`` is ``dock``. Time to full is the office node's business (/office/status).

Real-time mode (``real_time_factor`` 1.0) serves the demo; ``real_time_factor`` 0 runs as fast as
the machine allows. In ``lockstep`` mode the simulation does not run ahead of the controller: while
commands arrive on /cmd_vel, it advances at most ``lockstep_period_s`` of sim time past the last one
and then waits for the next (at most ``lockstep_timeout_s`` wall time), so a loaded machine slows
the run down instead of changing what happens in it.
"""
from __future__ import annotations

import array
from dataclasses import dataclass, replace
import math
import threading
import time

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion, TransformStamped, Twist
from l2b2_interfaces.msg import SpeechStatus, TrackedPeople, TrackedPerson
from l2b2_interfaces.srv import SimSetVisitor, SimSpawnVisitor
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, LaserScan
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage

from l2b2_common.config import ConfigError, config_path
from l2b2_common.dock import dock_geometry
from l2b2_common.geometry import quaternion_msg_fields
from l2b2_common.health import ERROR, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import RELIABLE, STATUS
from l2b2_common.tunables import ParameterError, declare_tunables, tunable
from l2b2_office.office_config import load_office_config
from l2b2_sim.diff_drive import DriveLimits
from l2b2_sim.lidar import LidarSpec
from l2b2_sim.visitors import BEHAVIOURS
from l2b2_sim.world import SimWorld, WorldConfig


@dataclass(frozen=True)
class SimulatorParams:
    """How the simulation runs and what it publishes; the world, the base and the lidar declare theirs
    (WorldConfig, DriveLimits, LidarSpec with the prefix ``lidar_``)."""

    real_time_factor: float = tunable(1.0, 'Sim seconds per wall second; 0 = as fast as possible.', min=0.0, max=100.0)
    lockstep: bool = tunable(False, 'Never run more than lockstep_period_s ahead of the last /cmd_vel while driven.')
    lockstep_period_s: float = tunable(0.1, 'Lockstep: sim time allowed past the last command.', min=0.01, max=1.0)
    lockstep_timeout_s: float = tunable(0.25, 'Lockstep: wall time to wait for a command before running on.',
                                        min=0.01, max=5.0)
    lockstep_idle_s: float = tunable(0.5, 'Lockstep: without a command for this long (sim), run free.',
                                     min=0.1, max=10.0)
    physics_rate_hz: float = tunable(50.0, 'Simulation steps per sim second (also /clock rate).',
                                     min=10.0, max=1000.0)
    odom_rate_hz: float = tunable(25.0, 'Odometry and /tf messages per sim second.', min=1.0, max=1000.0)
    scan_rate_hz: float = tunable(10.0, 'Lidar scans per sim second.', min=1.0, max=50.0)
    office_config: str = tunable('office.yaml', 'The battery model (capacity, idle/driving/speaking/charging '
                                 'power): this file\'s battery_* settings (under config/ or absolute); replaces '
                                 'the former battery_hours.')
    battery_initial_percent: float = tunable(100.0, 'Charge at start and after /sim/reset (percent).',
                                             min=0.0, max=100.0)
    dock_place: str = tunable('ladestation', 'Place of the charging dock (the robot on it); without one the dock '
                              'is dock_offset_m behind the place home. As the docking server\'s (dock_node.py).')
    dock_offset_m: float = tunable(1.1, 'Dock to staging pose (m); must equal the docking server\'s.',
                                   min=0.2, max=3.0)
    dock_tolerance_m: float = tunable(0.1, 'The battery charges while the base is this close to the dock pose (m).',
                                      min=0.01, max=0.5)
    publish_ground_truth: bool = tunable(True, 'Publish the visitors on /sim/visitors (for scoring only).')
    foxglove_port: int = tunable(0, 'Stream the sim to Foxglove on ws://127.0.0.1:<port>; 0 = off.',
                                 min=0, max=65535)
    mcap_path: str = tunable('', 'Record the run to this MCAP file; empty = record nothing.')


def _stamp(t: float) -> Time:
    sec, nanosec = divmod(round(t * 1e9), 1_000_000_000)
    return Time(sec=int(sec), nanosec=int(nanosec))


def _tf(stamp: Time, parent: str, child: str, x: float, y: float, z: float, yaw: float) -> TransformStamped:
    t = TransformStamped()
    t.header.stamp, t.header.frame_id, t.child_frame_id = stamp, parent, child
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = x, y, z
    t.transform.rotation = Quaternion(**quaternion_msg_fields(yaw))
    return t


class SimulatorNode(LeanNode):
    """Publishes the simulated robot's sensors and runs the simulation loop in its own thread."""

    def __init__(self, **kwargs):
        super().__init__('simulator', **kwargs)
        self.p = p = declare_tunables(self, SimulatorParams)
        self.health = HealthReporter(self, 'simulator')
        world = declare_tunables(self, WorldConfig)
        lidar = replace(declare_tunables(self, LidarSpec, prefix='lidar_'), start_radius=world.robot_radius + 0.02)
        try:
            self.world = SimWorld(replace(world, limits=declare_tunables(self, DriveLimits), lidar=lidar))
        except (OSError, ValueError, KeyError) as exc:
            raise ParameterError(self.get_name(), 'world', f'cannot load world {world.world!r}: {exc}') from None
        self._lock = threading.Lock()
        self._cmd_cond = threading.Condition()
        self._cmd_count = 0
        self._last_cmd_time = -math.inf
        try:
            self._office = load_office_config(config_path(p.office_config))
        except (OSError, ConfigError) as exc:
            raise ParameterError(self.get_name(), 'office_config', str(exc)) from None
        self.battery = self._office.battery_model(p.battery_initial_percent)
        try:
            self.dock = dock_geometry(self.world.places, p.dock_place, 'home', p.dock_offset_m).dock
        except KeyError as exc:
            raise ParameterError(self.get_name(), 'dock_place', f'world {world.world!r}: {exc}') from None
        self._speaking = False
        self._battery_time: float | None = None

        self._clock_pub = self.create_publisher(Clock, '/clock', 10)
        self._odom_pub = self.create_publisher(Odometry, '/odom', 10)
        self._tf_pub = self.create_publisher(TFMessage, '/tf', 10)
        self._scan_pub = self.create_publisher(LaserScan, '/scan', 10)
        self._battery_pub = self.create_publisher(BatteryState, '/battery', 10)
        self._truth_pub = self.create_publisher(TrackedPeople, '/sim/visitors', 10)
        self.create_subscription(Twist, '/cmd_vel', self._on_cmd_vel, RELIABLE)
        self.create_subscription(SpeechStatus, '/speech/status', self._on_speech, STATUS)
        self.create_service(SimSpawnVisitor, '/sim/spawn_visitor', self._on_spawn)
        self.create_service(SimSetVisitor, '/sim/set_visitor', self._on_set)
        self.create_service(Trigger, '/sim/reset', self._on_reset)

        self.live_view = None
        if p.foxglove_port or p.mcap_path:
            from l2b2_sim.live_view import LiveView
            self.live_view = LiveView(self.world, port=p.foxglove_port or None, mcap_path=p.mcap_path or None)

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='simulator', daemon=True)
        self._thread.start()
        mode = 'lockstep' if p.lockstep else 'free-running'
        rtf = 'as fast as possible' if p.real_time_factor == 0 else f'{p.real_time_factor}x real time'
        self.health.set(OK, f'simulating {self.world.world["name"]} ({mode}, {rtf})')

    # --- inputs ----------------------------------------------------------------------------------
    def _on_cmd_vel(self, msg: Twist) -> None:
        with self._lock:
            self.world.command(msg.linear.x, msg.angular.z)
            self._last_cmd_time = self.world.time
        with self._cmd_cond:
            self._cmd_count += 1
            self._cmd_cond.notify_all()

    def _on_speech(self, msg: SpeechStatus) -> None:
        self._speaking = msg.state == SpeechStatus.SPEAKING

    def _on_spawn(self, req, res):
        if req.behaviour not in ('', *BEHAVIOURS) or req.behaviour == 'remove':
            res.success, res.message = False, f'unknown behaviour {req.behaviour!r} (one of {", ".join(BEHAVIOURS)})'
            return res
        try:
            with self._lock:
                res.id = self.world.spawn_visitor(req.x, req.y, req.yaw, req.id)
                if req.behaviour and req.behaviour != 'stop' or req.speed > 0:
                    self.world.set_visitor(res.id, req.behaviour or 'stop', speed=req.speed)
            res.success, res.message = True, f'visitor {res.id} at ({req.x:.2f}, {req.y:.2f})'
        except ValueError as exc:
            res.success, res.message = False, str(exc)
        return res

    def _on_set(self, req, res):
        if req.behaviour not in BEHAVIOURS:
            res.success, res.message = False, f'unknown behaviour {req.behaviour!r} (one of {", ".join(BEHAVIOURS)})'
            return res
        try:
            with self._lock:
                self.world.set_visitor(req.id, req.behaviour, speed=req.speed, follow_distance=req.follow_distance,
                                       goal=(req.goal_x, req.goal_y) if req.use_goal else None)
            res.success, res.message = True, f'visitor {req.id}: {req.behaviour}'
        except ValueError as exc:
            res.success, res.message = False, str(exc)
        return res

    def _on_reset(self, _req, res):
        with self._lock:
            self.world.reset()
            self._last_cmd_time = -math.inf
            self.battery = self._office.battery_model(self.p.battery_initial_percent)
            self._battery_time = None
        res.success, res.message = True, 'robot at its start place, no visitors'
        return res

    # --- the loop --------------------------------------------------------------------------------
    def _run(self) -> None:
        p = self.p
        dt = 1.0 / p.physics_rate_hz
        steps_per_scan = max(1, round(p.physics_rate_hz / p.scan_rate_hz))
        steps_per_second = max(1, round(p.physics_rate_hz))
        steps_per_odom = max(1, round(p.physics_rate_hz / p.odom_rate_hz))
        step = 0
        wall0, sim0 = time.monotonic(), self.world.time
        try:
            self._publish_state(odom=True, scan=True)
            while not self._stop.is_set():
                if p.lockstep:
                    self._wait_for_controller()
                with self._lock:
                    self.world.step(dt)
                step += 1
                self._publish_state(odom=step % steps_per_odom == 0, scan=step % steps_per_scan == 0)
                if step % steps_per_second == 0:
                    self._publish_battery()
                if p.real_time_factor > 0:
                    ahead = (wall0 + (self.world.time - sim0) / p.real_time_factor) - time.monotonic()
                    if ahead > 0:
                        self._stop.wait(ahead)
                    elif ahead < -0.5:  # fell behind (machine busy): do not rush to catch up
                        wall0, sim0 = time.monotonic(), self.world.time
        except Exception as exc:  # noqa: BLE001 - report, do not die silently in a thread
            if not self._stop.is_set() and self.context.ok():  # not merely Ctrl-C shutting ROS down
                self.health.set(ERROR, f'simulation stopped: {exc}')
                self.get_logger().error(f'simulation loop failed: {exc!r}')

    def _wait_for_controller(self) -> None:
        p = self.p
        since = self.world.time - self._last_cmd_time
        if not (p.lockstep_period_s - 1e-9 <= since <= p.lockstep_idle_s):
            return
        with self._cmd_cond:
            seen = self._cmd_count
            self._cmd_cond.wait_for(lambda: self._cmd_count != seen or self._stop.is_set(),
                                    timeout=p.lockstep_timeout_s)

    def _publish_state(self, odom: bool, scan: bool) -> None:
        with self._lock:
            t = self.world.time
            pose = self.world.pose
            v, w = self.world.drive.v, self.world.drive.w
            ranges = self.world.scan() if scan else None
            people = [(vis.id, vis.x, vis.y, vis.vx, vis.vy) for vis in self.world.crowd.visitors.values()]
        stamp = _stamp(t)
        self._clock_pub.publish(Clock(clock=stamp))
        if odom:
            self._publish_odom(stamp, pose, v, w)
        if ranges is not None:
            self._publish_scan(stamp, ranges, people)
            if self.live_view is not None:
                self.live_view.publish(t, pose, ranges, people)

    def _publish_odom(self, stamp, pose, v, w) -> None:
        odom = Odometry()
        odom.header.stamp, odom.header.frame_id, odom.child_frame_id = stamp, 'odom', 'base_link'
        odom.pose.pose.position.x, odom.pose.pose.position.y = pose.x, pose.y
        odom.pose.pose.orientation = Quaternion(**quaternion_msg_fields(pose.yaw))
        odom.twist.twist.linear.x, odom.twist.twist.angular.z = v, w
        self._odom_pub.publish(odom)
        self._tf_pub.publish(TFMessage(transforms=[
            _tf(stamp, 'map', 'odom', 0.0, 0.0, 0.0, 0.0),
            _tf(stamp, 'odom', 'base_link', pose.x, pose.y, 0.0, pose.yaw),
            _tf(stamp, 'base_link', 'laser', 0.0, 0.0, self.world.lidar.spec.height, 0.0),
        ]))

    def _publish_scan(self, stamp, ranges, people) -> None:
        spec = self.world.lidar.spec
        msg = LaserScan()
        msg.header.stamp, msg.header.frame_id = stamp, 'laser'
        msg.angle_min, msg.angle_max, msg.angle_increment = spec.angle_min, spec.angle_max, spec.angle_increment
        msg.scan_time = 1.0 / self.p.scan_rate_hz
        msg.range_min, msg.range_max = spec.range_min, spec.range_max
        msg.ranges = array.array('f', ranges.tobytes())
        self._scan_pub.publish(msg)
        if self.p.publish_ground_truth:
            truth = TrackedPeople()
            truth.header.stamp, truth.header.frame_id = stamp, 'map'
            for vid, x, y, vx, vy in people:
                person = TrackedPerson(id=vid, confidence=1.0)
                person.position.x, person.position.y = x, y
                person.velocity.x, person.velocity.y = vx, vy
                truth.people.append(person)
            self._truth_pub.publish(truth)

    def on_dock(self) -> bool:
        """The base stands on the charging dock (its contacts touch): within the tolerance of the dock pose."""
        pose = self.world.pose
        return math.hypot(pose.x - self.dock.x, pose.y - self.dock.y) <= self.p.dock_tolerance_m

    def _publish_battery(self) -> None:
        """Steps the battery model (config/office.yaml's battery) by the sim time since the last call."""
        with self._lock:
            t = self.world.time
            moving = abs(self.world.drive.v) > 0.01 or abs(self.world.drive.w) > 0.05
            charging = self.on_dock()
            dt = 0.0 if self._battery_time is None else max(0.0, t - self._battery_time)
            self._battery_time = t
            percent = self.battery.step(dt, driving=moving, speaking=self._speaking, charging=charging)
        msg = BatteryState()
        msg.header.stamp = _stamp(t)
        msg.voltage = 22.0 + 3.2 * percent / 100.0
        msg.percentage = percent / 100.0
        msg.capacity = msg.design_capacity = float('nan')  # Ah unknown: the model counts watt-hours
        msg.charge = float('nan')
        msg.present = True
        msg.location = 'dock' if charging else ''
        if charging:
            msg.power_supply_status = (BatteryState.POWER_SUPPLY_STATUS_FULL if percent >= 99.95
                                       else BatteryState.POWER_SUPPLY_STATUS_CHARGING)
        else:
            msg.power_supply_status = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
        self._battery_pub.publish(msg)

    def close(self) -> None:
        self._stop.set()
        with self._cmd_cond:
            self._cmd_cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        if self.live_view is not None:
            self.live_view.close()
            self.live_view = None
        self.world.close()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: SimulatorNode(), args)


if __name__ == '__main__':
    raise SystemExit(main())

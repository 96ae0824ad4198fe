"""``l2b2-bench panel``: emergency-stop latency from the browser, the joystick dead-man, the live update rate.

Runs the real panel node and the real safety gate (each its own process, as in the stack) and, in two
more processes, stand-ins for the base (odometry and /tf at 50 Hz) and for Nav2's ``NavigateToPose``
server and the escort (``l2b2_panel.stand_ins``), all on loopback, and drives the staff page in headless
Debian Chromium. This process only holds the clock: one small probe node on a single-threaded
executor (receiving /cmd_vel, holding the navigation goal), so what it measures is not its own
scheduling (with the stand-ins in here, the probe saw the gate's zero up to 270 ms after it was sent).

- estop: a ``NavigateToPose`` goal is in flight and the robot drives; the stop button is pressed with
  the mouse; the clock runs until both the first zero /cmd_vel from the gate and that navigation
  goal's CANCELED result have arrived (the panel cancels every goal of /navigate_to_pose and /escort).
- deadman_stop: the page sends one joystick command over its WebSocket and nothing more; the clock
  runs from just before that send to the first zero /cmd_vel after the robot moved.
- update_hz: state messages the staff page received per second while the robot drives (odometry and /tf
  at 50 Hz); idle_update_hz: the same with the robot standing still (the panel pushes on change only).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from l2b2_common.bench import BenchResult, percentile

CHROMIUM = os.environ.get('L2B2_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync']


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f'panel bench: timed out waiting for {what}')
        time.sleep(0.002)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _http_ready(url: str) -> bool:
    try:
        urllib.request.urlopen(url + 'visitor', timeout=1).close()
        return True
    except OSError:
        return False


def _row(name: str, values: list[float]) -> dict:
    return {'measure': name, 'n': len(values), 'p50_ms': percentile(values, 50), 'p99_ms': percentile(values, 99),
            'max_ms': max(values) if values else float('nan')}


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench panel')
    parser.add_argument('--rounds', type=int, default=100, help='emergency stops to time')
    parser.add_argument('--warmup', type=int, default=3, help='untimed rounds first (discovery, caches)')
    parser.add_argument('--deadman-rounds', type=int, default=10, help='joystick dead-man stops to time')
    parser.add_argument('--update-seconds', type=float, default=5.0, help='how long to count live updates')
    parser.add_argument('--update-rate-hz', type=float, default=20.0, help="the panel's update_rate_hz")
    args = parser.parse_args(argv)

    # Our own ROS domain unless one is given: never drive a stack that happens to run here.
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 101)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from action_msgs.msg import GoalStatus
    from geometry_msgs.msg import Twist
    from nav2_msgs.action import NavigateToPose
    from playwright.sync_api import sync_playwright
    import rclpy
    from rclpy.action import ActionClient
    from rclpy.executors import SingleThreadedExecutor
    from std_srvs.srv import SetBool

    from l2b2_common.lean_node import LeanNode
    from l2b2_common.qos import RELIABLE
    from l2b2_common.ros_harness import destroy_node

    state_dir = tempfile.mkdtemp(prefix='l2b2-panel-bench-')
    port = _free_port()
    url = f'http://127.0.0.1:{port}/'
    quiet = {'stdout': subprocess.DEVNULL, 'stderr': subprocess.DEVNULL}
    procs = [
        subprocess.Popen([sys.executable, '-m', 'l2b2_panel.panel_node', '--ros-args', '-p', f'port:={port}',
                          '-p', 'demo_mode:=true', '-p', f'users_file:={state_dir}/users.json',
                          '-p', f'update_rate_hz:={args.update_rate_hz}'], **quiet),
        subprocess.Popen([sys.executable, '-m', 'l2b2_navigation.safety_gate_node'], **quiet),
        subprocess.Popen([sys.executable, '-m', 'l2b2_panel.stand_ins', 'base'], **quiet),
        subprocess.Popen([sys.executable, '-m', 'l2b2_panel.stand_ins', 'actions'], **quiet),
    ]
    context = rclpy.Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    probe = LeanNode('panel_bench_probe', context=context)
    executor.add_node(probe)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()

    zero_times: list[float] = []
    move_times: list[float] = []

    def on_cmd(msg: Twist) -> None:
        now = time.perf_counter()
        (zero_times if msg.linear.x == 0.0 and msg.angular.z == 0.0 else move_times).append(now)
    probe.create_subscription(Twist, '/cmd_vel', on_cmd, RELIABLE)
    navigate = ActionClient(probe, NavigateToPose, '/navigate_to_pose')
    estop = probe.create_client(SetBool, '/safety/estop')

    def resume() -> None:
        fut = estop.call_async(SetBool.Request(data=False))
        _wait(fut.done, 10, 'resume')

    def stop_round(page, timeout: float) -> tuple[float, float] | None:
        """One press of the stop button with a navigation goal in flight: (zero, cancelled) seconds."""
        resume()
        goal_fut = navigate.send_goal_async(NavigateToPose.Goal())
        _wait(goal_fut.done, 10, 'navigation goal accepted')
        handle = goal_fut.result()
        cancelled: list[float] = []
        handle.get_result_async().add_done_callback(
            lambda f: cancelled.append(time.perf_counter()) if f.result().status == GoalStatus.STATUS_CANCELED
            else None)
        move_times.clear()
        _wait(lambda: move_times, 10, 'the robot moving')
        zero_times.clear()
        t0 = time.perf_counter()
        page.mouse.down()
        try:
            _wait(lambda: cancelled and any(z > t0 for z in zero_times), timeout, 'zero /cmd_vel and cancel')
        except TimeoutError:
            handle.cancel_goal_async()  # the panel has not found the navigator yet (warm-up only)
            return None
        finally:
            page.mouse.up()
        return next(z for z in zero_times if z > t0) - t0, cancelled[0] - t0

    totals, zeros, cancels, deadman = [], [], [], []
    update_hz = idle_update_hz = float('nan')
    try:
        _wait(lambda: navigate.server_is_ready() and estop.service_is_ready() and _http_ready(url), 30, 'the stack')
        _wait(lambda: probe.count_subscribers('/escort/_action/feedback') >= 1, 30, 'the panel on the ROS graph')
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={'width': 1400, 'height': 900})
            page.goto(url)
            page.fill('#login-user', 'staff')
            page.fill('#login-password', 'l2b2-demo')
            page.click('#login-submit')
            page.wait_for_selector('#app:not([hidden])')
            page.locator('#estop').hover()
            deadline = time.monotonic() + 60
            warm = 0
            while warm < max(1, args.warmup):  # until the panel has discovered everything
                if time.monotonic() > deadline:
                    raise TimeoutError('panel bench: the stop never cancelled the navigation goal')
                warm += stop_round(page, 3.0) is not None
            for _ in range(args.rounds):
                zero, cancel = stop_round(page, 10.0) or (float('nan'), float('nan'))
                if zero != zero:
                    raise TimeoutError('panel bench: timed out waiting for zero /cmd_vel and cancel')
                zeros.append(zero * 1e3)
                cancels.append(cancel * 1e3)
                totals.append(max(zero, cancel) * 1e3)
            resume()
            # (a polling wait_for_function would need 'unsafe-eval', which the page's CSP refuses)
            _wait(lambda: page.evaluate('!!window.l2b2.state && !window.l2b2.state.safety.estop_active'), 10,
                  'the page showing the robot resumed')
            for _ in range(args.deadman_rounds):
                _wait(lambda: zero_times and (not move_times or zero_times[-1] > move_times[-1]), 10, 'standstill')
                move_times.clear()
                t0 = time.perf_counter()
                page.evaluate("window.l2b2.conn.send({type: 'joy', linear: 0.6, angular: 0.0})")
                _wait(lambda t=t0: move_times and any(z > move_times[0] for z in zero_times), 10, 'dead-man stop')
                deadman.append((next(z for z in zero_times if z > move_times[0]) - t0) * 1e3)
            # Live update rate with odometry and /tf at 50 Hz: standing still (pushed on change only, so
            # about the once-a-second heartbeat), then driving (a navigation goal in flight).
            def rate() -> float:
                start_count, t0 = page.evaluate('window.l2b2.msgCount'), time.perf_counter()
                time.sleep(args.update_seconds)
                return (page.evaluate('window.l2b2.msgCount') - start_count) / (time.perf_counter() - t0)
            _wait(lambda: zero_times and (not move_times or zero_times[-1] > move_times[-1]), 10, 'standstill')
            idle_update_hz = rate()
            goal_fut = navigate.send_goal_async(NavigateToPose.Goal())
            _wait(goal_fut.done, 10, 'navigation goal accepted')
            move_times.clear()
            _wait(lambda: move_times, 10, 'the robot moving')
            update_hz = rate()
            cancel = goal_fut.result().cancel_goal_async()
            _wait(cancel.done, 10, 'navigation goal cancelled')
            browser.close()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        executor.remove_node(probe)
        executor.shutdown(timeout_sec=2.0)
        destroy_node(probe)
        rclpy.shutdown(context=context)
        spin.join(timeout=5.0)
        shutil.rmtree(state_dir, ignore_errors=True)

    rows = [_row('estop total (zero + nav goal cancelled)', totals), _row('zero /cmd_vel', zeros),
            _row('NavigateToPose goal cancelled', cancels), _row('dead-man: last joystick command to zero', deadman)]
    figures = {
        'estop_p50_ms': round(percentile(totals, 50), 2), 'estop_p99_ms': round(percentile(totals, 99), 2),
        'estop_max_ms': round(max(totals), 2) if totals else float('nan'),
        'estop_zero_cmd_p99_ms': round(percentile(zeros, 99), 2),
        'estop_cancel_p99_ms': round(percentile(cancels, 99), 2),
        'estop_rounds': len(totals),
        'deadman_stop_ms': round(percentile(deadman, 50), 2), 'deadman_stop_max_ms':
            round(max(deadman), 2) if deadman else float('nan'),
        'update_hz': round(update_hz, 1), 'update_rate_limit_hz': args.update_rate_hz,
        'idle_update_hz': round(idle_update_hz, 2),
        'load_avg_1min': round(os.getloadavg()[0], 2), 'cpus': os.cpu_count(),
    }
    notes = ['estop: from the mouse press on the stop button in headless Chromium to the first zero /cmd_vel from',
             'the real safety gate and the in-flight NavigateToPose goal reported CANCELED (aim: p99 <= 100 ms).',
             'Panel, safety gate, base stand-in and navigator/escort stand-ins run as separate processes.',
             'deadman_stop_ms: median from one joystick command sent by the page to zero /cmd_vel (aim <= 300 ms).',
             'update_hz: state messages the staff page received per second while the robot drives (odometry and',
             '/tf at 50 Hz); idle_update_hz: the same standing still (pushed on change: ~1 Hz heartbeat).']
    return BenchResult('l2b2 panel: emergency stop latency, dead-man and live update rate', figures, rows, notes)

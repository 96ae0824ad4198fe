"""``l2b2-bench panel``: emergency-stop latency from the browser, and the panel's live update rate.

Runs the real panel node and the real safety gate (each its own process, as in the stack) with a
stand-in escort (drives while its goal runs) and a stand-in base (odometry and /tf at 50 Hz) on
loopback, and drives
the staff page in headless Debian Chromium. Each round: the escort drives, the stop button is
pressed with the mouse, and the clock runs until both a zero /cmd_vel and the escort goal's
CANCELED status have arrived. Then the number of live updates the page received in a few seconds.
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


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench panel')
    parser.add_argument('--rounds', type=int, default=100, help='emergency stops to time')
    parser.add_argument('--warmup', type=int, default=3, help='untimed rounds first (discovery, caches)')
    parser.add_argument('--update-seconds', type=float, default=5.0, help='how long to count live updates')
    parser.add_argument('--update-rate-hz', type=float, default=20.0, help="the panel's update_rate_hz")
    args = parser.parse_args(argv)

    # Our own ROS domain unless one is given: never drive a stack that happens to run here.
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 101)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from action_msgs.msg import GoalStatus
    from geometry_msgs.msg import Twist
    from l2b2_interfaces.action import Escort
    from playwright.sync_api import sync_playwright
    import rclpy
    from rclpy.action import ActionClient
    from rclpy.executors import MultiThreadedExecutor
    from std_srvs.srv import SetBool

    from l2b2_common.qos import RELIABLE
    from l2b2_panel.stand_ins import StandInBase, StandInEscort

    # The panel and the safety gate run as their own processes, as in the stack.
    state_dir = tempfile.mkdtemp(prefix='l2b2-panel-bench-')
    port = _free_port()
    url = f'http://127.0.0.1:{port}/'
    procs = [
        subprocess.Popen([sys.executable, '-m', 'l2b2_panel.panel_node', '--ros-args', '-p', f'port:={port}',
                          '-p', 'demo_mode:=true', '-p', f'users_file:={state_dir}/users.json',
                          '-p', f'update_rate_hz:={args.update_rate_hz}'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, '-m', 'l2b2_navigation.safety_gate_node'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    context = rclpy.Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=4, context=context)
    probe = rclpy.create_node('panel_bench_probe', context=context)
    nodes = [StandInEscort(context=context), StandInBase(context=context), probe]
    for n in nodes:
        executor.add_node(n)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()

    zero_times: list[float] = []
    moving = threading.Event()

    def on_cmd(msg: Twist) -> None:
        if msg.linear.x == 0.0 and msg.angular.z == 0.0:
            zero_times.append(time.perf_counter())
        else:
            moving.set()
    probe.create_subscription(Twist, '/cmd_vel', on_cmd, RELIABLE)
    escort = ActionClient(probe, Escort, '/escort')
    estop = probe.create_client(SetBool, '/safety/estop')

    rows, totals, zeros, cancels = [], [], [], []
    update_hz = float('nan')
    try:
        _wait(lambda: escort.server_is_ready() and estop.service_is_ready() and _http_ready(url), 30, 'the stack')
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
            for i in range(args.warmup + args.rounds):
                fut = estop.call_async(SetBool.Request(data=False))
                _wait(fut.done, 10, 'resume')
                goal_fut = escort.send_goal_async(Escort.Goal(target_id='meldestelle', with_visitor=False))
                _wait(goal_fut.done, 10, 'goal accepted')
                handle = goal_fut.result()
                cancelled: list[float] = []
                result_fut = handle.get_result_async()
                result_fut.add_done_callback(lambda f, c=cancelled: c.append(time.perf_counter())
                                             if f.result().status == GoalStatus.STATUS_CANCELED else None)
                moving.clear()
                _wait(moving.is_set, 10, 'the robot moving')
                t0 = time.perf_counter()
                page.mouse.down()
                _wait(lambda t=t0, c=cancelled: c and any(z > t for z in zero_times), 10, 'zero /cmd_vel and cancel')
                page.mouse.up()
                zero = next(z for z in zero_times if z > t0) - t0
                cancel = cancelled[0] - t0
                zero_times.clear()
                if i < args.warmup:
                    continue
                zeros.append(zero * 1e3)
                cancels.append(cancel * 1e3)
                totals.append(max(zero, cancel) * 1e3)
            fut = estop.call_async(SetBool.Request(data=False))
            _wait(fut.done, 10, 'resume')
            # Live update rate with odometry and /tf at 50 Hz.
            start_count, t0 = page.evaluate('window.l2b2.msgCount'), time.perf_counter()
            time.sleep(args.update_seconds)
            end_count, t1 = page.evaluate('window.l2b2.msgCount'), time.perf_counter()
            update_hz = (end_count - start_count) / (t1 - t0)
            browser.close()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for n in nodes:
            executor.remove_node(n)
        executor.shutdown(timeout_sec=2.0)
        for n in nodes:
            n.destroy_node()
        rclpy.shutdown(context=context)
        spin.join(timeout=5.0)
        shutil.rmtree(state_dir, ignore_errors=True)

    for name, values in (('estop total (zero + cancelled)', totals), ('zero /cmd_vel', zeros),
                         ('escort goal cancelled', cancels)):
        rows.append({'measure': name, 'n': len(values), 'p50_ms': percentile(values, 50),
                     'p99_ms': percentile(values, 99), 'max_ms': max(values) if values else float('nan')})
    figures = {
        'estop_p50_ms': round(percentile(totals, 50), 2), 'estop_p99_ms': round(percentile(totals, 99), 2),
        'estop_max_ms': round(max(totals), 2) if totals else float('nan'),
        'estop_zero_cmd_p99_ms': round(percentile(zeros, 99), 2),
        'estop_cancel_p99_ms': round(percentile(cancels, 99), 2),
        'estop_rounds': len(totals), 'update_hz': round(update_hz, 1),
        'update_rate_limit_hz': args.update_rate_hz,
        'load_avg_1min': round(os.getloadavg()[0], 2), 'cpus': os.cpu_count(),
    }
    notes = ['From the mouse press on the stop button in headless Chromium to the first zero /cmd_vel from the',
             'real safety gate and the escort goal reported CANCELED (aim: p99 <= 100 ms on loopback).',
             'Panel and safety gate run as separate processes; escort and base are stand-ins (l2b2_panel.stand_ins).',
             'update_hz: state messages the staff page received per second with odometry and /tf at 50 Hz.']
    return BenchResult('l2b2 panel: emergency stop latency and live update rate', figures, rows, notes)

"""``python -m l2b2_panel.screenshots [--out docs/screenshots]``: the pictures of both screens in the docs.

Starts the panel, the real safety gate and the stand-ins on the real floor map, puts a plausible
conversation and an escort on screen (invented texts, no real visitor), and saves panel.png,
visitor_de.png and visitor_tr.png from headless Debian Chromium.
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
import random
import tempfile
import threading
import time

from l2b2_panel.bench import CHROMIUM, CHROMIUM_ARGS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path('docs/screenshots'))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 101)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

    from geometry_msgs.msg import PoseStamped
    from l2b2_interfaces.action import Escort
    from l2b2_interfaces.msg import ComponentHealth, DialogueState, TrackedPeople, TrackedPerson
    from nav_msgs.msg import Path as PathMsg
    from playwright.sync_api import sync_playwright
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.parameter import Parameter

    from l2b2_common.qos import LATCHED, RELIABLE
    from l2b2_navigation.safety_gate_node import SafetyGateNode
    from l2b2_panel.panel_node import PanelNode
    from l2b2_panel.stand_ins import StandInBase

    context = rclpy.Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=4, context=context)
    panel = PanelNode(context=context, parameter_overrides=[
        Parameter('port', value=0), Parameter('demo_mode', value=True),
        Parameter('users_file', value=os.path.join(tempfile.mkdtemp(prefix='l2b2-shots-'), 'users.json'))])
    wp = panel.state.waypoints
    home, goal = wp.get('home', {'x': 0.0, 'y': 0.0}), wp.get('meldestelle', {'x': 5.0, 'y': 5.0})
    robot = (home['x'] + 0.3 * (goal['x'] - home['x']), home['y'] + 0.3 * (goal['y'] - home['y']), 1.2)
    probe = rclpy.create_node('screenshot_probe', context=context)
    nodes = [panel, SafetyGateNode(context=context), StandInBase(context=context, start=robot), probe]
    for n in nodes:
        executor.add_node(n)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()

    dialogue = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    health = probe.create_publisher(ComponentHealth, '/l2b2/health', 10)
    people = probe.create_publisher(TrackedPeople, '/people/tracked', RELIABLE)
    plan = probe.create_publisher(PathMsg, '/plan', RELIABLE)
    feedback = probe.create_publisher(Escort.Impl.FeedbackMessage, '/escort/_action/feedback', RELIABLE)

    def publish_scene(language: str, user_text: str, robot_text: str, number: str = '') -> None:
        dialogue.publish(DialogueState(state='escorting', language=language, intent='escort', target_id='meldestelle',
                                       confidence=0.92, last_user_text=user_text, last_robot_text=robot_text,
                                       choices=['cancel'], display_number=number, estimated_wait_minutes=8))
        for name, level, text in (('asr', 0, 'vosk de+tr ready'), ('tts', 0, 'piper ready'),
                                  ('dialogue', 0, 'ok'), ('queue_bridge', 1, 'appointment system slow (1.8 s)'),
                                  ('escort', 0, 'escorting to meldestelle')):
            health.publish(ComponentHealth(component=name, level=level, message=text))
        path = PathMsg()
        path.header.frame_id = 'map'
        for i in range(21):
            ps = PoseStamped()
            ps.pose.position.x = robot[0] + (goal['x'] - robot[0]) * i / 20
            ps.pose.position.y = robot[1] + (goal['y'] - robot[1]) * i / 20
            path.poses.append(ps)
        plan.publish(path)
        behind = TrackedPerson(id=7)
        behind.position.x, behind.position.y = robot[0] - 0.9, robot[1] - 0.4
        other = TrackedPerson(id=3)
        other.position.x, other.position.y = robot[0] + 2.5, robot[1] - 2.0
        msg = TrackedPeople(people=[behind, other])
        msg.header.frame_id = 'map'
        people.publish(msg)
        remaining = math.hypot(goal['x'] - robot[0], goal['y'] - robot[1])
        feedback.publish(Escort.Impl.FeedbackMessage(feedback=Escort.Feedback(
            phase='navigating', distance_remaining=remaining, visitor_status=Escort.Feedback.VISITOR_FOLLOWING,
            visitor_distance=math.hypot(0.9, 0.4))))

    try:
        time.sleep(1.5)  # discovery; a picture, not a test
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            publish_scene('de', 'Ich möchte mich ummelden.', 'Gern! Bitte folgen Sie mir zur Meldestelle.', 'M-042')
            page = browser.new_page(viewport={'width': 1500, 'height': 860})
            page.goto(panel.url)
            page.fill('#login-user', 'staff')
            page.fill('#login-password', 'l2b2-demo')
            page.click('#login-submit')
            page.wait_for_selector('#app:not([hidden])')
            time.sleep(2.0)
            publish_scene('de', 'Ich möchte mich ummelden.', 'Gern! Bitte folgen Sie mir zur Meldestelle.', 'M-042')
            time.sleep(1.0)
            page.screenshot(path=str(args.out / 'panel.png'))
            for lang, user_text, robot_text in (
                    ('de', 'Ich möchte mich ummelden.', 'Gern! Bitte folgen Sie mir zur Meldestelle.'),
                    ('tr', 'İkamet kaydı yaptırmak istiyorum.', 'Tabii! Lütfen beni Nüfus Kayıt Bürosuna takip edin.')):
                dialogue.publish(DialogueState(state='idle', language=lang))
                time.sleep(0.5)
                v = browser.new_page(viewport={'width': 1280, 'height': 800})
                v.goto(panel.url + 'visitor')
                v.click(f'#vlang-{lang}')
                publish_scene(lang, user_text, robot_text, 'M-042')
                v.wait_for_selector('#display-number:text("M-042")')
                time.sleep(0.5)
                v.screenshot(path=str(args.out / f'visitor_{lang}.png'))
            browser.close()
    finally:
        panel.close()
        for n in nodes:
            executor.remove_node(n)
        executor.shutdown(timeout_sec=2.0)
        for n in nodes:
            n.destroy_node()
        rclpy.shutdown(context=context)
        spin.join(timeout=5.0)
    print(f'screenshots in {args.out}/: panel.png visitor_de.png visitor_tr.png')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

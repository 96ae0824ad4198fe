"""The bring-up docs against what they describe: every ``ros2 launch l2b2`` command names a launch file we
ship and only arguments it declares; the integrator's checklist (docs/real_robot.md) covers every step
issue 18 asks for; the figures the docs give for people in the way are those of the configuration."""
from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from l2b2_bringup.launch_plan import BEHAVIOR_TREE
from l2b2_bringup.stack import load_stack
from l2b2_common.config import REPO_ROOT

DOCS = [REPO_ROOT / 'README.md', *sorted((REPO_ROOT / 'docs').glob('*.md'))]
LAUNCH = {p.name: p for p in [*(REPO_ROOT / 'launch').glob('*.launch.py'), *(REPO_ROOT / 'sim' / 'launch').glob(
    '*.launch.py')]}
COMMAND = re.compile(r'ros2 launch l2b2 ([^\s`]+)((?: +[A-Za-z_]+:=[^\s`]+)*)')


def _declared(path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {call.args[0].value for call in ast.walk(tree) if isinstance(call, ast.Call)
            and getattr(call.func, 'id', '') == 'DeclareLaunchArgument' and isinstance(call.args[0], ast.Constant)}


def _commands():
    for path in [*DOCS, *LAUNCH.values()]:
        for match in COMMAND.finditer(path.read_text()):
            args = dict(a.split(':=', 1) for a in match.group(2).split())
            yield path.relative_to(REPO_ROOT), match.group(1), args


def test_every_documented_ros2_launch_command_names_our_files_and_their_arguments():
    commands = list(_commands())
    assert len(commands) >= 10
    robot_nodes = {n.name for n in load_stack('stack_robot.yaml').nodes}
    for where, launch_file, args in commands:
        assert launch_file in LAUNCH, f'{where}: {launch_file} is not one of our launch files'
        unknown = set(args) - _declared(LAUNCH[launch_file])
        assert not unknown, f'{where}: {launch_file} declares no argument {sorted(unknown)}'
        if 'building' in args:
            assert (REPO_ROOT / 'maps' / f'{args["building"]}_waypoints.yaml').is_file(), where
        if launch_file == 'l2b2_robot.launch.py' and 'exclude' in args:
            assert set(args['exclude'].split(',')) <= robot_nodes, where


def test_the_integrators_checklist_covers_every_step_of_issue_18():
    text = (REPO_ROOT / 'docs' / 'real_robot.md').read_text()
    headings = re.findall(r'^## (.+)$', text, re.M)
    for must in [r'base driver', r'base_link → laser', r'lidar', r'[Mm]icrophone with echo cancellation.*speaker',
                 r'Nav2 and l2b2', r'first escort, with nobody around', r'with a person', r'[Ww]hat to measure']:
        assert any(re.search(must, h) for h in headings), f'no checklist step for {must!r}: {headings}'
    for fact in ['TwistStamped', 'stamped_cmd_vel', 'enable_stamped_cmd_vel', '`odom', 'robot_state_publisher',
                 'inf', 'echo cancellation', 'ros2 launch l2b2 l2b2_robot.launch.py', 'collision monitor']:
        assert fact in text, fact


def _figures() -> dict[str, str]:
    """What the docs say about people in the way, worked out from the configuration."""
    nav2 = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    cm = nav2['collision_monitor']['ros__parameters']
    radius = nav2['local_costmap']['local_costmap']['ros__parameters']['robot_radius']
    stop = yaml.safe_load(cm['PolygonStop']['points'])
    slow = yaml.safe_load(cm['PolygonSlow']['points'])
    tree = ET.parse(REPO_ROOT / BEHAVIOR_TREE).getroot()
    wait = float(next(tree.iter('Wait')).get('wait_duration'))
    rounds = int(tree.find('BehaviorTree/RecoveryNode').get('number_of_retries'))
    return {
        'slow': f'{cm["PolygonSlow"]["slowdown_ratio"] * 100:.0f} % within {max(x for x, _ in slow):g} m',
        'stop': f'{max(x for x, _ in stop) - radius:.2f} m ahead of',
        'wait': f'waits {wait:g} s',
        'give_up': f'(?:about|≈) {rounds * wait:.0f} s',
    }


@pytest.mark.parametrize('doc', ['docs/real_robot.md', 'docs/simulation.md'])
def test_the_people_in_the_way_figures_in_the_docs_are_the_configured_ones(doc):
    text = re.sub(r'\s+', ' ', (REPO_ROOT / doc).read_text())
    figures = _figures()
    assert figures['slow'] in text, (doc, figures['slow'])
    assert figures['stop'] in text, (doc, figures['stop'])
    assert re.search(figures['give_up'], text), (doc, figures['give_up'])
    if doc == 'docs/real_robot.md':
        assert figures['wait'] in text

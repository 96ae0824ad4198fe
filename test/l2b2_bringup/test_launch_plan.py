"""``ros2 launch`` and ``l2b2-launch`` start every node alike, and one building setting reaches Nav2 too.

The launch files hand l2b2_bringup.launch_plan's NodePlans to launch_ros; ``l2b2-launch`` runs
``NodeSpec.command``. Both come from the same loaded stack; here the command line launch_ros would build
from a NodePlan (its order: executable, arguments, --ros-args, node name, namespace, parameter files, the
dict parameters as a last file under the node's full name, remappings) is compared with the launcher's,
for both stack files and for a stack that uses every feature (namespace, remappings, arguments, env,
inline parameters, a plain process, restart off).
"""
from __future__ import annotations

from pathlib import Path
import shutil
import sys

import pytest
import yaml

from l2b2_bringup.launch_plan import NodePlan, stack_plan
from l2b2_bringup.stack import BUILDING_PARAMETERS, load_stack
from l2b2_bringup.supervisor import Supervisor
from l2b2_common.building import building_files
from l2b2_common.config import REPO_ROOT, ConfigError, config_path
from l2b2_common.maps import load_waypoints

from ..launch.launch_stubs import effective, expand

BIN = Path(sys.executable).parent  # where the console scripts are (lib/l2b2 in a colcon install)
FEATURES = """
stack: features
building: rathaus_nord
env: {L2B2_MODE: sim, SHARED: from-stack}
parameters: {use_sim_time: true}
nodes:
  - name: appointment_server
    executable: l2b2-appointment-server
    ros: false
    args: [--config, appointment_server.yaml, --port, 18090]
    env: {SHARED: from-node}
  - name: escort
    executable: l2b2-escort
    namespace: /lobby
    params: [sim_time.yaml, escort.yaml]
    remappings: {/people/tracked: /people/tracked_lobby, navigate_to_pose: /navigate_to_pose}
    parameters: {max_retries: 3}
    args: [--extra]
    restart: false
  - name: panel
    executable: l2b2-panel
    params: [panel.yaml]
    parameters: {port: 18080, host: 127.0.0.1}
"""


def _launch_ros_command(plan: NodePlan, params_dir: Path) -> list[str]:
    """What launch_ros's Node runs for ``plan.node_kwargs()`` (executable found under the package's lib)."""
    kw = plan.node_kwargs()
    # namespace '/' (no namespace) makes launch_ros add ``-r __ns:=/``, the same as none.
    namespace = '/' + kw['namespace'].strip('/') if kw['namespace'].strip('/') else ''
    fqn = f'{namespace}/{kw["name"]}'
    cmd = [str(BIN / kw['executable']), *kw.get('arguments', []), '--ros-args', '-r', f'__node:={kw["name"]}']
    if namespace:
        cmd += ['-r', f'__ns:={namespace}']
    for item in kw['parameters']:
        if isinstance(item, dict):  # launch_ros writes a dict to a file under the fully specified node name
            path = params_dir / f'launch_{kw["name"]}.yaml'
            path.write_text(yaml.safe_dump({fqn: {'ros__parameters': item}}))
            cmd += ['--params-file', str(path)]
        else:
            cmd += ['--params-file', item]
    for src, dst in kw['remappings']:
        cmd += ['-r', f'{src}:={dst}']
    return cmd


def _normalised(cmd: list[str]) -> list[object]:
    """A command line with each parameter file's path replaced by what it says (the temporary files differ)."""
    out: list[object] = []
    for i, part in enumerate(cmd):
        if i and cmd[i - 1] == '--params-file' and not Path(part).is_relative_to(REPO_ROOT):
            out.append(yaml.safe_load(Path(part).read_text()))
        else:
            out.append(part)
    return out


@pytest.mark.parametrize('stack_file', ['stack_sim.yaml', 'stack_robot.yaml', 'features'])
def test_ros2_launch_and_l2b2_launch_run_the_same_command_line_for_every_node(stack_file, tmp_path):
    if stack_file == 'features':
        path = tmp_path / 'features.yaml'
        path.write_text(FEATURES)
        stack_file = str(path)
    stack, plans = stack_plan(stack_file, 'rathaus_nord', bin_dir=BIN)
    assert [p.name for p in plans] == [s.name for s in stack.nodes]
    supervisor = Supervisor(load_stack(stack_file, building='rathaus_nord'), log=lambda _line: None)
    try:
        launcher_env = {mp.spec.name: mp.env for mp in supervisor.procs}
    finally:
        shutil.rmtree(supervisor._params_dir, ignore_errors=True)
    ours, theirs = tmp_path / 'l2b2-launch', tmp_path / 'launch_ros'
    ours.mkdir()
    theirs.mkdir()
    for spec, plan in zip(stack.nodes, plans, strict=True):
        launcher = spec.command(BIN, params_dir=ours)
        if plan.ros:
            launched = _launch_ros_command(plan, theirs)
            assert plan.package == 'l2b2' and plan.executable == spec.executable
        else:  # a plain process: the resolved path, never a bare name (not on PATH in a colcon install)
            launched = plan.process_kwargs()['cmd']
            assert Path(launched[0]).is_absolute() and launched[0] == str(BIN / spec.executable)
        assert _normalised(launched) == _normalised(launcher), spec.name
        # The same environment on top of the launcher's own (launch adds additional_env to its own environment).
        assert plan.env == {**stack.env, **dict(spec.env)}, spec.name
        assert {k: launcher_env[spec.name].get(k) for k in plan.env} == plan.env, spec.name
        assert plan.respawn == spec.restart
    if stack.name == 'features':
        escort = next(p for p in plans if p.name == 'escort')
        assert escort.env == {'L2B2_MODE': 'sim', 'SHARED': 'from-stack'} and escort.respawn is False
        assert next(p for p in plans if p.name == 'appointment_server').env['SHARED'] == 'from-node'
        assert escort.namespace == '/lobby' and escort.arguments == ('--extra',)
        assert dict(escort.remappings) == {'/people/tracked': '/people/tracked_lobby',
                                           'navigate_to_pose': '/navigate_to_pose'}
        # Inline parameters win over the files: the last file, under the node's own full name.
        last = escort.parameters[-1]
        assert last['max_retries'] == 3 and last['use_sim_time'] is True
        assert last['waypoints_file'] == str(building_files('rathaus_nord').waypoints)
        assert escort.parameters[:2] == (config_path('sim_time.yaml'), config_path('escort.yaml'))


def _assert_building(started, building: str) -> None:
    files = building_files(building)
    home = load_waypoints(files.waypoints)['home']
    nodes = {n.node_name: n for n in started.nodes}
    assert effective(nodes['map_server'])['yaml_filename'] == str(files.map_yaml)
    assert (effective(nodes['amcl'])['initial_pose']['x'], effective(nodes['amcl'])['initial_pose']['y']) == (
        home.x, home.y)
    checked = 0
    for node in started.nodes:
        if node.package == 'l2b2':
            for name, kind in BUILDING_PARAMETERS.get(node.executable, {}).items():
                assert effective(node)[name] == str(getattr(files, kind)), (node.node_name, name)
                checked += 1
    assert checked >= 3


def test_the_robot_launch_takes_the_building_from_the_stack_file_for_nav2_too(tmp_path):
    """One setting: with no ``building`` argument the stack file's ``building:`` reaches Nav2 (map, amcl, dock)
    as well as the l2b2 nodes (as ``l2b2-launch`` reads it); the argument overrides it for all of them."""
    data = yaml.safe_load(config_path('stack_robot.yaml').read_text())
    data['building'] = 'rathaus_nord'
    path = tmp_path / 'stack_city.yaml'
    path.write_text(yaml.safe_dump(data))
    robot = REPO_ROOT / 'launch' / 'l2b2_robot.launch.py'
    _assert_building(expand(robot, {'stack': str(path)}), 'rathaus_nord')
    _assert_building(expand(robot, {'stack': str(path), 'building': 'buergerbuero'}), 'buergerbuero')
    _assert_building(expand(robot), load_stack('stack_robot.yaml').building)
    with pytest.raises(ConfigError, match='unknown building "atlantis"'):
        expand(robot, {'building': 'atlantis'})


def test_the_gazebo_launch_takes_the_building_from_the_sim_stack_file():
    gazebo = expand(REPO_ROOT / 'sim' / 'launch' / 'l2b2_gazebo.launch.py')
    building = load_stack('stack_sim.yaml').building
    _assert_building(gazebo, building)
    (_launch, gz_args), = gazebo.external
    assert gz_args['gz_args'].endswith(str(building_files(building).world_sdf))
    with pytest.raises(ConfigError, match='unknown building "atlantis"'):
        expand(REPO_ROOT / 'sim' / 'launch' / 'l2b2_gazebo.launch.py', {'building': 'atlantis'})


def test_a_namespace_without_its_leading_slash_is_made_absolute_as_launch_ros_does(tmp_path):
    path = tmp_path / 'ns.yaml'
    path.write_text('stack: ns\nnodes: [{name: escort, executable: l2b2-escort, namespace: lobby}]\n')
    stack, (plan,) = stack_plan(str(path), bin_dir=BIN)
    launched = _launch_ros_command(plan, tmp_path)
    assert '__ns:=/lobby' in launched
    ours = tmp_path / 'l2b2-launch'
    ours.mkdir()
    assert _normalised(stack.nodes[0].command(BIN, params_dir=ours)) == _normalised(launched)

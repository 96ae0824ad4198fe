"""``l2b2-launch --building rathaus_nord`` on real processes: every node that reads a building file runs
with that building's file (asked over ROS), and comes up with it."""
import os
import subprocess
import sys

import pytest
import yaml

from l2b2_bringup.stack import BUILDING_PARAMETERS
from l2b2_common.building import building_files

from .stack_files import stop_everything, test_stack_file

pytestmark = pytest.mark.slow


def _parameter_values(ros, client, names) -> list[str] | None:
    """The string values of ``names`` in one GetParameters call; None unless every one came back."""
    from rcl_interfaces.srv import GetParameters
    reply = ros.wait_future(client.call_async(GetParameters.Request(names=list(names))), timeout=60,
                            what=f'{client.srv_name} answer')
    return [v.string_value for v in reply.values] if len(reply.values) == len(names) else None


def test_switching_buildings_reaches_every_consumer_node(tmp_path, ros):
    from rcl_interfaces.srv import GetParameters
    path, _port = test_stack_file(tmp_path)
    data = yaml.safe_load(path.read_text())
    consumers = {'l2b2-escort', 'l2b2-office', 'l2b2-panel', 'l2b2-simulator', 'l2b2-sim-dock', 'l2b2-sim-navigator'}
    assert consumers == set(BUILDING_PARAMETERS)
    data['nodes'] = [n for n in data['nodes'] if n['executable'] in consumers]
    path.write_text(yaml.safe_dump(data))
    files = building_files('rathaus_nord')
    log = open(tmp_path / 'launch.log', 'w')
    launcher = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'l2b2-launch'), str(path),
                                 '--building', 'rathaus_nord'], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        probe = ros.node()
        for node in data['nodes']:
            wanted = BUILDING_PARAMETERS[node['executable']]
            client = probe.create_client(GetParameters, f'/{node["name"]}/get_parameters')
            ros.wait_for(client.service_is_ready, timeout=60, what=f'{node["name"]} up')
            # A node's services are visible before it spins (the navigator inflates its map, the simulator
            # loads pybullet first): the answer comes once its constructor is done. rclpy answers with no
            # values at all when one name is not declared: asked again until all are there (a loaded CI
            # machine once got such an answer; from whom is not known).
            values = ros.wait_for(lambda c=client, w=wanted: _parameter_values(ros, c, w), timeout=60,
                                  what=f'{node["name"]} parameters {sorted(wanted)}')
            got = dict(zip(wanted, values, strict=True))
            assert got == {name: str(getattr(files, kind)) for name, kind in wanted.items()}, node['name']
        # Still running once every node read its files (a missing waypoint would have stopped the escort).
        names = [n['name'] for n in data['nodes']]
        ros.wait_for(lambda: set(names) <= set(probe.get_node_names()), timeout=30, what='all consumers in the graph')
        assert launcher.poll() is None
    finally:
        stop_everything(launcher)
        log.close()
    text = (tmp_path / 'launch.log').read_text()
    assert 'in building "rathaus_nord"' in text and 'configuration error' not in text, text[-3000:]

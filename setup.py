"""The l2b2 ament_python package: every node of the Bürgerbüro greeter robot."""
from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'l2b2'


def tree(share_sub, src):
    """data_files entries that install a source folder under share/l2b2/, keeping its layout."""
    entries = {}
    for path in glob(os.path.join(src, '**', '*'), recursive=True):
        if os.path.isfile(path):
            dest = os.path.join('share', package_name, share_sub, os.path.relpath(os.path.dirname(path), src))
            entries.setdefault(os.path.normpath(dest), []).append(path)
    return sorted(entries.items())


# One console script per node, plus the tools. Modules: <package>.<node>_node:main.
NODES = {
    'l2b2-safety-gate': 'l2b2_navigation.safety_gate_node:main',
    'l2b2-escort': 'l2b2_navigation.escort_node:main',
    'l2b2-person-tracker': 'l2b2_navigation.person_tracker_node:main',
    'l2b2-simulator': 'l2b2_sim.simulator_node:main',
    'l2b2-sim-navigator': 'l2b2_sim.navigator_node:main',
    'l2b2-dialogue': 'l2b2_dialogue.dialogue_node:main',
    'l2b2-queue-bridge': 'l2b2_queue_bridge.queue_bridge_node:main',
    'l2b2-appointment-server': 'l2b2_queue_bridge.appointment_server:main',
    'l2b2-audio-input': 'l2b2_speech.audio_input_node:main',
    'l2b2-asr': 'l2b2_speech.asr_node:main',
    'l2b2-tts': 'l2b2_speech.tts_node:main',
    'l2b2-panel': 'l2b2_panel.panel_node:main',
    'l2b2-figures': 'l2b2_office.figures_node:main',
    'l2b2-alerts': 'l2b2_office.alerts_node:main',
    'l2b2-office': 'l2b2_office.office_node:main',
    'l2b2-sim-dock': 'l2b2_sim.dock_node:main',
}
TOOLS = {
    'l2b2-launch': 'l2b2_bringup.launch_cli:main',
    'l2b2-bench': 'l2b2_bringup.bench:main',
    'l2b2-intent': 'l2b2_dialogue.intent_cli:main',
    'l2b2-scenarios': 'l2b2_bringup.scenarios_cli:main',
    'l2b2-floorplan': 'l2b2_navigation.floorplan_cli:main',
    'l2b2-fetch-models': 'l2b2_speech.fetch_models:main',
    'l2b2-transcribe': 'l2b2_speech.transcribe:main',
    'l2b2-queue-check': 'l2b2_queue_bridge.check:main',
    'l2b2-dialogue-diagram': 'l2b2_dialogue.diagram:main',
    'l2b2-figures-report': 'l2b2_office.figures_cli:main',
}

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(include=['l2b2_*', 'l2b2_*.*']),
    include_package_data=True,
    package_data={
        '': ['*.yaml', '*.json'],
        'l2b2_panel': ['web/*.html', 'web/*.js', 'web/*.css', 'web/i18n/*.json', 'web/vendor/*'],
    },
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        *tree('config', 'config'),
        *tree('maps', 'maps'),
        *tree('launch', 'launch'),
        *tree('sim', 'sim'),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='l2b2 developers',
    maintainer_email='l2b2-dev@users.noreply.github.com',
    description='Bürgerbüro greeter robot: German/Turkish dialogue, check-in, queue tickets, escort.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [f'{name} = {target}' for name, target in {**NODES, **TOOLS}.items()],
    },
)

"""The docking interface in interfaces/nav2_msgs stays byte-identical to Nav2 Kilted's.

Nav2 Kilted has no opennav_docking_msgs package (it lived briefly in 2024, then moved into nav2_msgs):
its docking server serves nav2_msgs/action/DockRobot and UndockRobot, so ours are built in nav2_msgs too.

The upstream text is not stored here; its git blob ids are. A git blob id is the SHA-1 of the exact file
content, so an edit of a field, a constant, a default or a comment fails this test. Source: Nav2
(ros-navigation/navigation2), branch kilted, commit 71a1d84f49dc48e226c96619188ee12054824ff3, where the
files are nav2_msgs/action/DockRobot.action, nav2_msgs/action/UndockRobot.action and
nav2_msgs/srv/ReloadDockDatabase.srv (``git rev-parse <commit>:<path>``).
"""
from __future__ import annotations

import hashlib
import re

import pytest

from l2b2_common.config import REPO_ROOT

PACKAGE = REPO_ROOT / 'interfaces' / 'nav2_msgs'
#: Navigation (checked by test/launch/test_nav2_names.py) besides the docking files checked here.
OTHERS = {'action/NavigateToPose.action'}
UPSTREAM_BLOBS = {
    'action/DockRobot.action': 'ae70c33413a9e6dae6fdbef222c04d5466cff891',
    'action/UndockRobot.action': '5bb882a2e4139169044c418e17684994879a72c8',
    'srv/ReloadDockDatabase.srv': 'fb6f36d7a43499f3c24dd146aa11cddc9f8b949b',
}


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()


def test_blob_id_is_computed_like_git():
    assert git_blob_id(b'') == 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'  # git's well-known empty blob


@pytest.mark.parametrize('name', sorted(UPSTREAM_BLOBS))
def test_interface_file_is_identical_to_nav2_kilted(name):
    assert git_blob_id((PACKAGE / name).read_bytes()) == UPSTREAM_BLOBS[name], f'{name} differs from Nav2 Kilted'


def test_the_package_builds_exactly_these_interfaces():
    cmake = (PACKAGE / 'CMakeLists.txt').read_text(encoding='utf-8')
    assert re.search(r'^project\(nav2_msgs\)$', cmake, re.M)
    assert set(re.findall(r'"((?:action|srv|msg)/[^"]+)"', cmake)) == set(UPSTREAM_BLOBS) | OTHERS
    found = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob('*') if p.suffix in ('.action', '.srv', '.msg')}
    assert found == set(UPSTREAM_BLOBS) | OTHERS
    assert '<name>nav2_msgs</name>' in (PACKAGE / 'package.xml').read_text(encoding='utf-8')

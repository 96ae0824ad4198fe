"""How every node stops: a node whose clean-up hangs after Ctrl-C still exits, saying where its threads were."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from l2b2_common.config import REPO_ROOT
from l2b2_common.node_main import EXIT_STUCK

CHILD = textwrap.dedent('''
    import sys, threading
    import l2b2_common.node_main as node_main
    from l2b2_common.lean_node import LeanNode

    node_main.CLEANUP_LIMIT_S = 1.0

    class Stuck(LeanNode):
        def __init__(self):
            super().__init__('stuck_on_close')
            print('up', flush=True)

        def close(self):
            threading.Event().wait()  # a clean-up that never ends (a thread that will not join, say)

    sys.exit(node_main.run_node(Stuck, []))
''')


def test_a_node_whose_clean_up_hangs_exits_anyway_and_prints_its_threads():
    child = subprocess.Popen([sys.executable, '-c', CHILD], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == 'up'  # the node is made (Ctrl-C from here on stops it)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == EXIT_STUCK, err
    assert 'stuck_on_close: clean-up did not finish' in err and 'in close' in err, err

"""``l2b2-dialogue-diagram [PATH]``: draw the dialogue's state machine (default ``docs/dialogue_states.png``).

A tool, not part of the running robot: it needs Graphviz (transitions' GraphMachine), the robot does not.
"""
from __future__ import annotations

import argparse

from l2b2_common.config import REPO_ROOT
from l2b2_dialogue.states import STATES, TRANSITIONS

DIAGRAM_TITLE = 'l2b2 dialogue — from every state: take_over → takeover, reset → idle'
DEFAULT_PATH = REPO_ROOT / 'docs' / 'dialogue_states.png'


def export_diagram(path: str, title: str = DIAGRAM_TITLE) -> str:
    """Render the state machine with Graphviz (transitions' GraphMachine); returns the file written.

    The two from-anywhere triggers (take_over, reset) are named in the title instead of drawn
    thirteen times each, which keeps the picture readable.
    """
    from transitions.extensions import GraphMachine

    class _Model:
        pass

    drawn = [t for t in TRANSITIONS if t['source'] != '*']
    machine = GraphMachine(model=_Model(), states=list(STATES), transitions=drawn, initial='idle',
                           auto_transitions=False, title=title, show_conditions=False, graph_engine='graphviz')
    graph = machine.get_graph()
    graph.graph_attr.update(dpi='72', rankdir='LR', nodesep='0.4', ranksep='0.6')
    graph.draw(path, prog='dot', format=path.rsplit('.', 1)[-1])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-dialogue-diagram', description=__doc__.splitlines()[0])
    parser.add_argument('path', nargs='?', default=str(DEFAULT_PATH), help='image to write (.png, .svg, ...)')
    args = parser.parse_args(argv)
    print(export_diagram(args.path))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

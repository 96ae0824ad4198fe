"""The one way every l2b2 node starts and stops (as in ros2/demos): quiet on Ctrl-C, clear on errors."""
from __future__ import annotations

from collections.abc import Callable
import faulthandler
import os
import signal
import sys
import threading

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from l2b2_common.config import ConfigError
from l2b2_common.params import ParameterError, undeclared_overrides
from l2b2_common.ros_harness import destroy_node

#: Exit code for a node that cannot start because of its configuration: the launcher does not
#: restart it in a loop, it reports the message instead.
EXIT_CONFIG_ERROR = 78
#: Seconds a node may take to clean up after Ctrl-C before it prints where its threads are and exits anyway
#: (a node that hangs on its way out would otherwise keep the launcher waiting until it kills it).
CLEANUP_LIMIT_S = 10.0
#: Exit code of a node whose clean-up did not finish in time.
EXIT_STUCK = 70


def _exit_stuck(name: str) -> None:
    print(f'[l2b2] {name}: clean-up did not finish in {CLEANUP_LIMIT_S:.0f} s; its threads:', file=sys.stderr, flush=True)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(EXIT_STUCK)


def params_files(args: list[str]) -> list[str]:
    """The ``--params-file`` paths on a ROS command line, to name them in a configuration error."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == '--params-file']


def run_node(factory: Callable[[], Node], args: list[str] | None = None, *, threads: int = 1) -> int:
    """Create the node, spin it until shutdown, and map configuration errors to a clear message.

    Prefer one thread: rclpy's MultiThreadedExecutor re-polls every pending coroutine on each wake-up
    and was measured spinning half a core in an idle node (the panel: 0.57 cores with 4 threads,
    0.09 with one).
    """
    # On SIGUSR1 every thread's stack goes to stderr: the launcher asks so of a node that does not stop.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    watchdog = None
    with rclpy.init(args=args):
        try:
            node = factory()
            unknown = undeclared_overrides(node)
            if unknown:
                error = ParameterError(node.get_name(), ', '.join(unknown),
                                       'not a parameter of this node (misspelt?); it would be ignored')
                close = getattr(node, 'close', None)
                if callable(close):
                    close()
                destroy_node(node)
                raise error
        except (ParameterError, ConfigError) as exc:
            files = params_files(sys.argv if args is None else args)
            where = f' (parameter files: {", ".join(files)})' if files and isinstance(exc, ParameterError) else ''
            print(f'[l2b2] configuration error: {exc}{where}', file=sys.stderr, flush=True)
            return EXIT_CONFIG_ERROR
        executor = None
        try:
            executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
            executor.add_node(node)
            executor.spin()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        except Exception:
            # Ctrl-C shuts the context down under a spinning executor, which can then fail to build
            # its wait set (RCLError), or before it is made (it cannot be made then): a normal stop.
            # With the context still up it is a bug.
            if rclpy.ok():
                raise
        finally:
            watchdog = threading.Timer(CLEANUP_LIMIT_S, _exit_stuck, args=(node.get_name(),))
            watchdog.daemon = True
            watchdog.start()
            close = getattr(node, 'close', None)
            if callable(close):
                close()
            if executor is not None:
                executor.shutdown(timeout_sec=1.0)
            destroy_node(node)
    watchdog.cancel()
    return 0

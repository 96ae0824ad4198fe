"""The joystick's dead-man rule without ROS: what each tick publishes, on a fake clock."""
from __future__ import annotations

import pytest

from l2b2_panel.teleop import ZERO, TeleopDeadman


def deadman() -> TeleopDeadman:
    return TeleopDeadman(deadman_s=0.3, rate_hz=20.0, max_linear_mps=0.5, max_angular_rps=1.0)


def test_a_command_is_published_at_once_scaled_to_the_limits():
    d = deadman()
    assert d.command(1, 1.0, -0.5, now=10.0) == (0.5, -0.5)
    assert d.active and d.held.owner == 1


def test_ticks_repeat_the_command_only_while_the_next_tick_is_inside_the_dead_man():
    """Re-sent while now - last + 1.5 ticks <= 0.3 s; then exactly one zero, then silence."""
    d = deadman()
    d.command(1, 1.0, 0.0, now=0.0)
    published = [(t, d.tick(t)) for t in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35)]
    moving = [t for t, c in published if c == (0.5, 0.0)]
    assert moving == [0.05, 0.10, 0.15, 0.20]  # 0.225 is the last moment a re-send may leave
    assert published[4] == (0.25, ZERO)
    assert all(c is None for _t, c in published[5:])
    assert d.held is None and not d.active


def test_the_whole_path_stays_within_the_dead_man():
    """The zero leaves at most ``deadman_s`` after the page's last command, whatever the tick phase."""
    for phase in (0.0, 0.013, 0.031, 0.049):
        d = deadman()
        d.command(1, 1.0, 0.0, now=0.0)
        t = phase
        while d.tick(t) != ZERO:
            t += 0.05
            assert t < 1.0
        assert t <= 0.3


def test_a_new_command_restarts_the_window():
    d = deadman()
    d.command(1, 1.0, 0.0, now=0.0)
    d.command(1, 0.2, 0.0, now=0.2)
    assert d.tick(0.4) == pytest.approx((0.1, 0.0))


def test_release_stops_only_the_owner_and_stop_stops_anyone():
    d = deadman()
    d.command(1, 1.0, 0.0, now=0.0)
    assert not d.release(2)  # another page letting go does not stop the one driving
    assert d.held is not None
    assert d.release(1) and d.held is None and d.tick(0.05) is None
    assert not d.release(1)  # nothing more to publish
    d.command(2, 1.0, 0.0, now=1.0)
    assert d.stop() == ZERO and d.held is None and not d.active

"""Around the escort, without a graph: hand-over dwell, going home, a lost visitor, staff pause, estop, busy."""
from __future__ import annotations

from l2b2_common.codes import EscortOutcome, HealthLevel
from l2b2_common.geometry import Pose2D
from l2b2_navigation.escort import CancelGoal, EscortConfig, Finish, Say, SendGoal
from l2b2_navigation.escort_trips import Note, SetHealth, Trips

CONFIG = EscortConfig(pause_after_s=1.0, give_up_s=5.0, dwell_s=10.0)
HOME = Pose2D(0.0, 0.0, 0.0)
COUNTER = Pose2D(8.0, 0.0, 0.0)


def commands(orders):
    return [o for _, o in orders if not isinstance(o, Note)]


def escort(trips, now=0.0, with_visitor=True):
    trip, orders = trips.begin('meldestelle', COUNTER, now, language='tr', with_visitor=with_visitor,
                               robot=HOME)
    assert commands(orders) == [SetHealth(HealthLevel.OK, f'{"escorting" if with_visitor else "going"} '
                                          'to meldestelle'), SendGoal(1, COUNTER)]
    return trip


def test_arrival_dwells_for_the_hand_over_then_goes_home_by_itself():
    trips = Trips(CONFIG, 'home', HOME)
    assert not trips.under_way and trips.status(False, False) == ('idle', '')
    trip = escort(trips)
    assert trips.status(False, False) == ('escorting', 'meldestelle')
    orders = trips.nav_result(trip, 20.0, 1, True)
    assert commands(orders) == [Say('arrived'), Finish(EscortOutcome.ARRIVED, 'arrived at meldestelle'),
                                SetHealth(HealthLevel.OK, 'arrived at meldestelle')]
    assert trip.done and trips.trip is None and trips.under_way
    assert trips.status(False, False) == ('escorting', 'meldestelle')  # hand-over at the counter
    assert trips.tick(29.9, COUNTER) == []
    orders = trips.tick(30.0, COUNTER)
    home = trips.trip
    assert home is not None and not home.for_visitor and home.language == 'de'
    assert commands(orders) == [SetHealth(HealthLevel.OK, 'returning home', unless_warning=True), SendGoal(1, HOME)]
    assert trips.status(False, False) == ('returning', 'home')
    orders = trips.nav_result(home, 60.0, 1, True)
    assert [o for o in commands(orders) if isinstance(o, SetHealth)] == [SetHealth(HealthLevel.OK, 'at home')]
    assert not trips.under_way and trips.status(False, False) == ('idle', '')


def test_lost_visitor_says_goodbye_and_goes_home_at_once():
    trips = Trips(CONFIG, 'home', HOME)
    trip = escort(trips)
    trip.policy.on_pose(Pose2D(2.0, 0.0, 0.0))
    for t in (0.5, 1.5, 3.0, 7.0):  # nobody there: pause, ask, give up
        orders = trips.tick(t, Pose2D(2.0, 0.0, 0.0))
    assert (trip, Say('visitor_lost')) in orders
    assert any(isinstance(o, Finish) and o.outcome is EscortOutcome.VISITOR_LOST for _, o in orders)
    orders = trips.tick(7.1, Pose2D(2.0, 0.0, 0.0))
    assert trips.trip is not None and trips.trip.mode == 'returning' and SendGoal(1, HOME) in commands(orders)


def test_no_return_home_when_switched_off_or_when_home_was_the_target():
    trips = Trips(EscortConfig(return_home=False), 'home', HOME)
    trips.nav_result(escort(trips), 5.0, 1, True)
    assert not trips.under_way
    trips = Trips(CONFIG, 'home', HOME)
    trip, _ = trips.begin('home', HOME, 0.0, language='de', with_visitor=False, robot=COUNTER)
    trips.nav_result(trip, 5.0, 1, True)
    assert not trips.under_way


def test_staff_hold_the_hand_over_and_then_send_the_robot_home():
    trips = Trips(CONFIG, 'home', HOME)
    trips.nav_result(escort(trips), 20.0, 1, True)
    assert trips.pause(True, 21.0) == (True, 'staying at meldestelle', [])
    assert not trips.under_way and trips.status(False, False) == ('paused', 'meldestelle')
    assert trips.tick(500.0, COUNTER) == []  # held as long as it takes
    assert trips.pause(False, 600.0) == (True, 'returning home', [])
    assert trips.under_way
    assert SendGoal(1, HOME) in commands(trips.tick(600.0, COUNTER))


def test_staff_pause_and_continue_an_escort_and_nothing_to_pause():
    trips = Trips(CONFIG, 'home', HOME)
    assert trips.pause(True, 0.0) == (False, 'no escort under way', [])
    assert trips.pause(False, 0.0) == (False, 'nothing is paused', [])
    trip = escort(trips)
    ok, message, orders = trips.pause(True, 1.0)
    assert ok and message == 'paused on the way to meldestelle' and commands(orders) == [CancelGoal(1)]
    assert trips.status(False, False) == ('paused', 'meldestelle')
    assert trips.pause(True, 2.0) == (True, 'already paused', [])
    ok, message, orders = trips.pause(False, 100.0)
    assert ok and message == 'continuing to meldestelle' and commands(orders) == [SendGoal(2, COUNTER)]
    assert trip.policy.goal_seq == 2


def test_a_new_visitor_supersedes_the_trip_home_but_not_another_escort():
    trips = Trips(CONFIG, 'home', HOME)
    first = escort(trips)
    assert trips.refusal() == (EscortOutcome.BUSY, 'already escorting to meldestelle')
    trips.nav_result(first, 20.0, 1, True)
    trips.tick(30.0, COUNTER)
    home = trips.trip
    assert home.mode == 'returning' and trips.refusal() is None
    trip, orders = trips.begin('wc', Pose2D(1.0, 1.0, 0.0), 31.0, language='de', with_visitor=True)
    assert (home, CancelGoal(1)) in orders and (home, Finish(EscortOutcome.CANCELED, 'cancelled')) in orders
    assert home.done and trips.trip is trip
    assert not any(isinstance(o, SetHealth) and 'could not return' in o.message for _, o in orders)


def test_estop_ends_the_trip_forgets_the_return_and_refuses_new_escorts():
    trips = Trips(CONFIG, 'home', HOME)
    trips.nav_result(escort(trips), 20.0, 1, True)
    assert trips.return_at is not None
    trips.estop(True, 21.0)
    assert not trips.under_way and trips.refusal() == (EscortOutcome.ESTOPPED, 'emergency stop is active')
    assert trips.status(True, False) == ('estop', '')
    trips.estop(False, 22.0)
    trip = escort(trips, 23.0)
    orders = trips.estop(True, 24.0)
    assert commands(orders) == [CancelGoal(1), Finish(EscortOutcome.ESTOPPED, 'emergency stop')]
    assert trip.done and not trips.under_way


def test_a_failed_trip_home_warns_staff():
    trips = Trips(EscortConfig(max_retries=0), 'home', HOME)
    trips.nav_result(escort(trips), 20.0, 1, True)
    trips.tick(30.0, COUNTER)
    orders = trips.nav_result(trips.trip, 40.0, 1, False, 'no valid path found')
    warnings = [o for o in commands(orders) if isinstance(o, SetHealth)]
    assert warnings and warnings[-1].level == HealthLevel.DEGRADED
    assert warnings[-1].message.startswith('could not return home')

"""The live state and the floor map as the browser gets them (pure Python)."""
from __future__ import annotations

import base64
import math

import numpy as np
import pytest

from l2b2_common.codes import HealthLevel
from l2b2_common.geometry import Pose2D, yaw_from_quaternion
from l2b2_common.maps import OccupancyMap, read_pgm
from l2b2_panel.state import PanelState
from l2b2_panel.views import FloorMap

STALE = HealthLevel.STALE


def test_pose_composition_map_odom_base():
    map_odom = Pose2D(1.0, 2.0, math.pi / 2)
    robot = map_odom.compose(Pose2D(1.0, 0.0, 0.0))
    assert robot.x == pytest.approx(1.0) and robot.y == pytest.approx(3.0)
    assert robot.yaw == pytest.approx(math.pi / 2)
    assert yaw_from_quaternion(0, 0, math.sin(0.4), math.cos(0.4)) == pytest.approx(0.8)


def test_map_yaml_pgm_is_flipped_to_grid_rows(tmp_path):
    # 3 x 2 picture: top row black (occupied), bottom row white (free), one grey (unknown).
    (tmp_path / 'm.pgm').write_bytes(b'P5\n# made by a test\n3 2\n255\n' + bytes([0, 0, 205, 254, 254, 254]))
    (tmp_path / 'm.yaml').write_text('image: m.pgm\nresolution: 0.05\norigin: [-1.0, -2.0, 0.0]\n'
                                     'negate: 0\noccupied_thresh: 0.65\nfree_thresh: 0.196\n')
    floor = FloorMap.from_occupancy_map(OccupancyMap.from_yaml(tmp_path / 'm.yaml'))
    assert read_pgm(tmp_path / 'm.pgm').shape == (2, 3)
    assert floor.cells.tolist() == [[0, 0, 0], [100, 100, 255]]  # row 0 = bottom of the picture
    d = floor.as_dict()
    assert d['origin'] == [-1.0, -2.0, 0.0]
    assert list(base64.b64decode(d['cells'])) == [0, 0, 0, 100, 100, 255]


def test_occupancy_grid_unknown_cells():
    floor = FloorMap.from_occupancy_map(OccupancyMap.from_msg_fields(2, 1, 0.1, (0.0, 0.0, 0.0), [-1, 100]))
    assert floor.cells.tolist() == [[255, 100]]


def test_snapshots_staleness_and_visitor_privacy():
    s = PanelState(stale_after_s=3.0)
    assert not s.staff_snapshot(0.0)['online']
    s.set_robot_pose(Pose2D(1.0, 0.0, 0.0).compose(Pose2D(2.0, 0.0, 0.0)), now=10.0)  # map→odom→base_link
    s.update_health('asr', 0, 'vosk de ready', now=10.0)
    s.update_dialogue({'state': 'ticket', 'language': 'tr', 'display_number': 'A17', 'estimated_wait_minutes': 12,
                       'last_user_text': 'numara', 'last_robot_text': 'Numaranız A17', 'choices': ['yes'],
                       'intent': 'ticket', 'candidates': [], 'staff_takeover': False, 'target_id': 'meldestelle'},
                      now=10.0)
    staff = s.staff_snapshot(11.0)
    assert staff['online'] and staff['robot']['pose'] == {'x': 3.0, 'y': 0.0, 'yaw': 0.0}
    assert staff['health'][0]['level'] == 0
    later = s.staff_snapshot(20.0)
    assert not later['online'] and later['health'][0]['level'] == STALE
    visitor = s.visitor_snapshot(11.0)
    assert visitor['dialogue']['display_number'] == 'A17' and 'robot' not in visitor and 'health' not in visitor


def test_escorted_visitor_is_marked():
    s = PanelState()
    s.set_robot_pose(Pose2D(0.0, 0.0, 0.0), now=0.0)
    s.update_people([(1, -1.0, 0.0), (2, 4.0, 4.0)], now=0.0)
    s.update_escort({'phase': 'navigating', 'distance_remaining': 3.0, 'visitor_status': 1, 'visitor_distance': 1.0})
    people = {p['id']: p['escorted'] for p in s.staff_snapshot(0.0)['people']}
    assert people == {1: True, 2: False}


def test_plan_is_thinned_but_keeps_the_goal():
    s = PanelState()
    s.update_plan([(float(i), 0.0) for i in range(1000)], max_points=100)
    plan = s.staff_snapshot(0.0)['plan']
    assert len(plan) <= 101 and plan[-1] == [999.0, 0.0]
    assert np.all(np.diff([p[0] for p in plan]) > 0)


def test_visitor_subtitle_shows_what_was_said_and_forgets_it_when_idle():
    s = PanelState()
    s.update_dialogue({'state': 'listening', 'last_robot_text': 'Wie kann ich helfen?'}, now=1.0)
    s.update_said('Einen Moment, ich frage nach.', 'de', now=2.0)  # typed by staff during a takeover
    assert s.visitor_snapshot(2.0)['said'] == {'text': 'Einen Moment, ich frage nach.', 'language': 'de'}
    s.update_speech_status(True, 'Bitte folgen Sie mir.', 'de', now=3.0)  # an escort announcement
    assert s.visitor_snapshot(3.0)['said']['text'] == 'Bitte folgen Sie mir.'
    s.update_dialogue({'state': 'idle', 'last_robot_text': ''}, now=4.0)
    assert s.visitor_snapshot(4.0)['said'] == {}
    s.update_said('Guten Tag!', 'de', now=5.0, utterance_id='d-1')
    assert s.visitor_snapshot(5.0)['said'] == {}  # a speech output exists: shown when it is spoken
    s.update_speech_status(True, 'Guten Tag!', 'de', now=6.0, utterance_id='d-1')
    assert s.visitor_snapshot(6.0)['said']['text'] == 'Guten Tag!'


def test_subtitles_follow_the_speech_output_and_drop_the_last_conversation():
    """Issue 17 item 8: the TTS speaks the dialogue's sentences in order and was several behind; the next
    visitor read the last one's waiting number, the Turkish screen the German greeting."""
    s = PanelState()
    s.update_speech_status(False, '', '', now=0.5)  # the TTS is up (its first status)
    s.update_dialogue({'state': 'ticket', 'session_id': 'A', 'language': 'de'}, now=1.0)
    for i, text in enumerate(('Einen Moment.', 'Ihre Wartenummer ist 6.', 'Bitte warten Sie dort.')):
        s.update_said(text, 'de', now=1.1, utterance_id=f'a{i}')
    s.update_dialogue({'state': 'ticket', 'session_id': 'A', 'language': 'de',
                       'last_robot_text': 'Bitte warten Sie dort.'}, now=1.2)
    s.update_speech_status(True, 'Einen Moment.', 'de', now=1.3, utterance_id='a0')
    assert s.visitor_snapshot(1.3)['said']['text'] == 'Einen Moment.'  # what is spoken now, not ahead
    s.update_speech_status(False, 'Einen Moment.', 'de', now=1.4, utterance_id='a0')
    assert s.visitor_snapshot(1.4)['said']['text'] == 'Einen Moment.'  # stays readable after it ends
    # The conversation ends and the next visitor, Turkish, starts while the TTS still works through A.
    s.update_dialogue({'state': 'idle', 'session_id': '', 'language': 'de'}, now=2.0)
    assert s.visitor_snapshot(2.0)['said'] == {}
    s.update_speech_status(True, 'Ihre Wartenummer ist 6.', 'de', now=2.1, utterance_id='a1')
    assert s.visitor_snapshot(2.1)['said'] == {} and s.staff_snapshot(2.1)['speech']['said'] == {}
    s.update_said('Merhaba!', 'tr', now=2.2, utterance_id='b0')  # B's greeting, just before B's state
    s.update_dialogue({'state': 'greeting', 'session_id': 'B', 'language': 'tr', 'last_robot_text': 'Merhaba!'},
                      now=2.3)
    s.update_speech_status(True, 'Bitte warten Sie dort.', 'de', now=2.4, utterance_id='a2')
    assert s.visitor_snapshot(2.4)['said'] == {}  # still A's: not shown (the page shows B's own line)
    s.update_speech_status(True, 'Merhaba!', 'tr', now=2.5, utterance_id='b0')
    assert s.visitor_snapshot(2.5)['said'] == {'text': 'Merhaba!', 'language': 'tr'}
    # The same visitor switches to German: a Turkish sentence still being spoken is not the screen's.
    s.update_said('Guten Tag!', 'de', now=2.6, utterance_id='b1')
    s.update_dialogue({'state': 'listening', 'session_id': 'B', 'language': 'de', 'last_robot_text': 'Guten Tag!'},
                      now=2.7)
    assert s.visitor_snapshot(2.7)['said'] == {}
    s.update_speech_status(True, 'Guten Tag!', 'de', now=2.8, utterance_id='b1')
    assert s.visitor_snapshot(2.8)['said']['text'] == 'Guten Tag!'
    s.update_speech_status(False, 'Merhaba!', 'tr', now=2.9, utterance_id='b0')  # a late end: never back
    assert s.visitor_snapshot(2.9)['said']['text'] == 'Guten Tag!'


def test_a_new_conversation_clears_the_last_visitors_words():
    s = PanelState()
    s.update_dialogue({'state': 'listening', 'session_id': 'A', 'language': 'de'}, now=1.0)
    s.update_recognized('Wo ist das Standesamt?', 'de', 'asr', now=1.1)
    assert s.staff_snapshot(1.1)['speech']['recognized']['text'] == 'Wo ist das Standesamt?'
    s.update_dialogue({'state': 'greeting', 'session_id': 'B', 'language': 'de'}, now=2.0)
    assert s.staff_snapshot(2.0)['speech']['recognized'] == {}


def test_health_shows_a_latched_stop_and_a_refused_check_in_for_what_they_are():
    s = PanelState(stale_after_s=30.0)
    s.update_health('safety_gate', 0, 'emergency stop engaged', now=1.0)
    s.update_health('queue_bridge', 1, 'check-in failed: too early at meldestelle', now=1.0)
    s.update_health('tts', 1, 'no voice at all; subtitles only', now=1.0)
    shown = {h['component']: h['shown'] for h in s.staff_snapshot(1.0)['health']}
    assert shown == {'safety_gate': 'ok', 'queue_bridge': 'notice', 'tts': 'degraded'}
    s.update_safety(True, 'panel', False, now=2.0)
    assert {h['component']: h['shown'] for h in s.staff_snapshot(2.0)['health']}['safety_gate'] == 'stopped'
    s.update_health('queue_bridge', 1, 'appointment system unreliable: 2 of 5 calls failed', now=2.0)
    s.update_health('queue_bridge', 1, 'check-in failed: error', now=2.0)  # a system error stays trouble
    assert {h['component']: h['shown'] for h in s.staff_snapshot(2.0)['health']}['queue_bridge'] == 'degraded'
    assert {h['component']: h['shown'] for h in s.staff_snapshot(99.0)['health']}['safety_gate'] == 'stale'


def test_a_newer_dialogue_line_wins_over_an_older_spoken_sentence():
    s = PanelState()
    s.update_said('Merhaba!', 'tr', now=1.0)
    s.update_dialogue({'state': 'confirming', 'last_robot_text': 'Sizi götüreyim mi?'}, now=2.0)
    assert s.visitor_snapshot(2.0)['said'] == {} and s.staff_snapshot(2.0)['speech']['said'] == {}
    s.update_said('Bir dakika lütfen.', 'tr', now=3.0)
    assert s.visitor_snapshot(3.0)['said']['text'] == 'Bir dakika lütfen.'
    s.update_dialogue({'state': 'confirming', 'last_robot_text': 'Sizi götüreyim mi?'}, now=4.0)  # same line again
    assert s.visitor_snapshot(4.0)['said']['text'] == 'Bir dakika lütfen.'


def test_repeated_messages_wake_nobody_but_keep_the_robot_online():
    """Push on change: the same pose, battery or health again bumps no ``seq`` (an idle robot's 50 Hz
    odometry costs the browsers nothing), yet still counts as hearing from the robot."""
    s = PanelState(stale_after_s=3.0)
    s.set_robot_pose(Pose2D(1.0, 2.0, 0.5), now=1.0)
    s.update_battery(87.0, False, now=1.0)
    s.update_health('asr', 0, 'ready', now=1.0)
    s.update_people([], now=1.0)
    seq = s.seq
    for t in (2.0, 3.0, 4.0):
        s.set_robot_pose(Pose2D(1.0, 2.0, 0.5), now=t)
        s.set_robot_pose(Pose2D(1.0001, 2.0, 0.5), now=t)  # below the millimetre the browser is shown
        s.update_battery(87.0, False, now=t)
        s.update_health('asr', 0, 'ready', now=t)
        s.update_people([], now=t)
    assert s.seq == seq and s.staff_snapshot(4.5)['online']
    assert s.staff_snapshot(4.5)['health'][0]['age_s'] == 0.5
    s.set_robot_pose(Pose2D(1.01, 2.0, 0.5), now=5.0)
    s.update_health('asr', 1, 'vosk slow', now=5.0)
    assert s.seq == seq + 2


def test_check_in_text_is_masked_on_both_screens_while_it_is_shown():
    """Issue 17: "Verstanden: Wolf" on the staff panel. What a visitor says in a check-in state (and the
    answer that leaves it) is masked until newer text replaces it; long numbers are masked anywhere."""
    s = PanelState()
    s.update_dialogue({'state': 'listening', 'last_user_text': 'Ich habe einen Termin um 10:30'}, now=1.0)
    assert s.staff_snapshot(1.0)['dialogue']['last_user_text'] == 'Ich habe einen Termin um 10:30'
    s.update_recognized('4711', 'de', 'asr', now=1.5)
    s.update_dialogue({'state': 'checkin', 'last_user_text': '4711'}, now=2.0)
    s.update_recognized('Wolf', 'de', 'typed', now=2.5)
    s.update_dialogue({'state': 'checkin', 'last_user_text': 'Wolf'}, now=3.0)
    s.update_dialogue({'state': 'confirming', 'last_user_text': 'Wolf'}, now=4.0)  # found: left the check-in
    s.update_dialogue({'state': 'confirming', 'last_user_text': 'Wolf', 'last_robot_text': 'Soll ich?'}, now=5.0)
    for snap in (s.staff_snapshot(5.0), s.visitor_snapshot(5.0)):
        assert 'Wolf' not in str(snap) and '4711' not in str(snap), snap
    assert s.staff_snapshot(5.0)['dialogue']['last_user_text'] == '***'
    s.update_dialogue({'state': 'listening', 'last_user_text': 'ja'}, now=6.0)
    assert s.staff_snapshot(6.0)['dialogue']['last_user_text'] == 'ja'
    s.update_dialogue({'state': 'listening', 'last_user_text': 'Meine Nummer ist 12345678'}, now=7.0)
    assert s.visitor_snapshot(7.0)['dialogue']['last_user_text'] == 'Meine Nummer ist ********'


def test_the_check_in_state_names_are_the_dialogues():
    from l2b2_dialogue.states import STATES
    from l2b2_panel.subtitles import CHECKIN_STATES
    assert set(CHECKIN_STATES) <= set(STATES)
    assert {s for s in STATES if 'checkin' in s or 'booking' in s} <= set(CHECKIN_STATES)

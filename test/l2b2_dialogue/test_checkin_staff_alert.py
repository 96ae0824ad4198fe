"""Issue 17: repeated check-in failures tell staff through the dialogue node (log and /l2b2/health), with no
booking number or name in either; the alert stands although the next queue request succeeds."""
from __future__ import annotations

import re

from l2b2_interfaces.msg import ComponentHealth

from l2b2_common.health import HEALTH_TOPIC
from l2b2_dialogue.checkin import CHECKIN_ALERT

from .test_dialogue_node import _start


def test_repeated_checkin_failures_tell_staff_without_visitor_data(ros, capfd):
    dialogue, probe, mocks = _start(ros, queue=True)
    seen: list[ComponentHealth] = []
    probe.node.create_subscription(ComponentHealth, HEALTH_TOPIC,
                                   lambda m: seen.append(m) if m.component == 'dialogue' else None, 10)
    probe.touch('start')
    probe.wait_state('greeting')

    def answers():
        with probe.lock:
            return sum('keine Buchung' in m.text for m in probe.said)

    for i, number in enumerate(('4798', '4799', '4797'), 1):
        probe.touch('checkin', f'{number} Müller-Lüdenscheid')
        ros.wait_for(lambda i=i: answers() >= i, 15.0, f'answer to check-in attempt {i}')
    probe.wait_state('confirming', target_id='info')
    ros.wait_for(lambda: any(m.message == CHECKIN_ALERT and m.level == ComponentHealth.DEGRADED for m in seen),
                 15.0, 'staff alert on /l2b2/health')
    assert [c[0] for c in mocks['queue'].calls] == ['lookup'] * 3

    # The next visitor checks in fine: the alert stands (it is not wiped by the next good answer).
    probe.touch('cancel')
    probe.wait_state('idle')
    probe.touch('start')
    probe.wait_state('greeting')
    probe.touch('checkin', '4711 Mustermann')
    probe.wait_state('confirming', display_number='T11')
    assert dialogue.health.level == ComponentHealth.DEGRADED and dialogue.health.message == CHECKIN_ALERT

    logs = capfd.readouterr()
    # Without the log lines' [seconds.nanoseconds] stamps: a stamp once contained 4711 by chance.
    text = re.sub(r'\[\d+\.\d+\]', '[stamp]', logs.out + logs.err)
    assert text.count(f'staff attention: {CHECKIN_ALERT}') == 1
    for secret in ('4797', '4798', '4799', '4711', 'Müller', 'Lüdenscheid', 'Mustermann'):
        assert secret not in text, secret
        assert all(secret not in m.message for m in seen), secret

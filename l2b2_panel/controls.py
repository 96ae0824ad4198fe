"""The staff controls (``POST /api/control/{name}``) as one table: a typed body, a handler, an audit line.

Adding a control is adding a row: its body model (pydantic: unknown keys, wrong types and out-of-range
values are a 400 naming the field), the bridge call that acts, and what the audit log records. No ROS
here: the handler gets the web app's ``RobotBridge``. Checks that need the live state (is the target
known?) return an error text from ``check``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

LANGUAGES = ('de', 'tr')
MAX_TEXT = 300
_ALERT_ID = re.compile(r'[a-z][a-z_]{0,39}-[0-9]{1,12}')


class Body(BaseModel):
    """Every control body: a JSON object, nothing unknown, no silent type conversion."""

    model_config = ConfigDict(extra='forbid', strict=True, frozen=True)


class NoBody(Body):
    pass


class ResumeBody(Body):
    #: Resuming needs a deliberate confirmation (the page's second, separately armed button).
    confirm: Literal[True]


class SendBody(Body):
    target_id: str = Field('', max_length=64)
    #: The escort's announcements; anything but the dialogue's languages falls back to German.
    language: str = 'de'

    @field_validator('language')
    @classmethod
    def _known_or_german(cls, v: str) -> str:
        return v if v in LANGUAGES else 'de'


class PauseBody(Body):
    pause: bool


class SayBody(Body):
    text: str
    language: Literal['de', 'tr'] = 'de'

    @field_validator('text')
    @classmethod
    def _length(cls, v: str) -> str:
        v = v.strip()
        if not 1 <= len(v) <= MAX_TEXT:
            raise ValueError(f'must be 1-{MAX_TEXT} characters')
        return v


class LanguageBody(Body):
    #: The dialogue speaks German and Turkish only; English exists on the visitor screen's texts.
    language: Literal['de', 'tr'] = 'de'


class TakeoverBody(Body):
    enable: bool


class AckAlertBody(Body):
    #: An alert's id as the alerts node makes them ("estop-17": its kind and a number), nothing else:
    #: the id goes to the audit log.
    id: str

    @field_validator('id')
    @classmethod
    def _alert_id(cls, v: str) -> str:
        if not _ALERT_ID.fullmatch(v):
            raise ValueError('must be an alert id such as "estop-17"')
        return v


class StayOutBody(Body):
    #: True: the robot stays out of the dock until released; false releases any override (dock now too).
    enable: bool


@dataclass(frozen=True)
class Control:
    body: type[Body]
    act: Callable[[Any, Any, str], Any]  # (bridge, body, user) -> result (blocking), or its wait (at_once)
    audit: Callable[[Any, dict[str, Any]], tuple[str, dict[str, Any]]]  # (body, result) -> (action, details)
    #: Observers may use it (only the emergency stop: whoever sees a danger may stop the robot).
    observers: bool = False
    #: ``act`` starts at once in the server's own thread and returns the blocking wait for the answer
    #: (the emergency stop: no hand-over to a worker thread before the robot is told to stop).
    at_once: bool = False


def _result(action: str) -> Callable[[Any, dict], tuple[str, dict]]:
    return lambda _b, r: (action, {'result': r.get('ok')})


CONTROLS: dict[str, Control] = {
    # The stop acts in the request's thread at once; only the wait for the gate's answer blocks.
    'estop': Control(NoBody, lambda b, _body, user: b.estop_begin(user), _result('estop'), observers=True,
                     at_once=True),
    'resume': Control(ResumeBody, lambda b, _body, user: b.resume(user), _result('resume')),
    'send': Control(SendBody, lambda b, body, _u: b.send_to(body.target_id, body.language),
                    lambda body, r: ('send_to', {'target_id': body.target_id, 'result': r.get('ok')})),
    'cancel': Control(NoBody, lambda b, _body, _u: b.cancel_goal(), _result('cancel_goal')),
    'pause': Control(PauseBody, lambda b, body, _u: b.pause_escort(body.pause),
                     lambda body, r: ('pause_escort' if body.pause else 'continue_escort', {'result': r.get('ok')})),
    # The text itself is not logged: staff may repeat what a visitor told them.
    'say': Control(SayBody, lambda b, body, _u: b.say(body.text, body.language),
                   lambda body, _r: ('say', {'language': body.language, 'chars': len(body.text)})),
    'language': Control(LanguageBody, lambda b, body, _u: b.set_language(body.language),
                        lambda body, r: ('set_language', {'language': body.language, 'result': r.get('ok')})),
    'takeover': Control(TakeoverBody, lambda b, body, _u: b.takeover(body.enable),
                        lambda body, r: ('takeover' if body.enable else 'hand_back', {'result': r.get('ok')})),
    'reset': Control(NoBody, lambda b, _body, _u: b.reset_dialogue(), _result('reset_dialogue')),
    # The alerts node records who saw it; the audit line names the alert by its id (kind and number).
    'ack_alert': Control(AckAlertBody, lambda b, body, user: b.acknowledge_alert(body.id, user),
                         lambda body, r: ('acknowledge_alert', {'target_id': body.id, 'result': r.get('ok')})),
    # The office day (l2b2_office.office_node): staff overrides and the retry after a failed dock/undock.
    'stay_out': Control(StayOutBody, lambda b, body, _u: b.stay_out(body.enable),
                        lambda body, r: ('stay_out' if body.enable else 'release_override', {'result': r.get('ok')})),
    'dock_now': Control(NoBody, lambda b, _body, _u: b.dock_now(), _result('dock_now')),
    'clear_fault': Control(NoBody, lambda b, _body, _u: b.clear_fault(), _result('clear_fault')),
}


def parse_body(control: Control, data: Any) -> tuple[Body | None, str]:
    """(body, '') or (None, a clear reason naming the field) for a 400."""
    if not isinstance(data, dict):
        return None, 'expected a JSON object'
    try:
        return control.body.model_validate(data), ''
    except ValidationError as exc:
        err = exc.errors()[0]
        field = '.'.join(str(p) for p in err['loc']) or 'body'
        if err['type'] == 'extra_forbidden':
            allowed = ', '.join(control.body.model_fields) or 'none'
            return None, f'unknown field "{field[:40]}" (allowed: {allowed})'
        if err['type'] == 'missing':
            return None, f'"{field}" is required'
        reason = err['msg'].removeprefix('Value error, ')
        return None, f'"{field}": {reason}'

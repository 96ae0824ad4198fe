"""``l2b2-figures``: the office's figures, counted from what the robot publishes, and served to city IT.

It only listens: ``/dialogue/state`` (conversations, languages, intents, departments, check-ins, waiting
numbers), ``/speech/recognized`` + ``/visitor/input`` and ``/speech/say`` (answer time, "not understood"),
``/people/events`` (visitors greeted), ``/escort/_action/status`` plus the action's own get_result service
(each finished escort's outcome, visitor lost included, without touching the escort node), ``/l2b2/health``
and ``/office/alerts`` (gauges). The rules are :mod:`l2b2_office.figures_recorder`; the counts go to
SQLite (:mod:`l2b2_office.figures`) and out on a Prometheus endpoint (``/metrics`` on ``metrics_host``:
``metrics_port``, its own registry). Counts only: no transcript, name or booking number is stored or logged.
Latched messages published before the node started (their DDS source time, wall clock on this machine) are
history after a restart: the conversation, alerts and finished escorts they show are not counted again.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from action_msgs.msg import GoalStatus, GoalStatusArray
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import (
    ComponentHealth,
    DialogueState,
    RecognizedSpeech,
    SayRequest,
    StaffAlerts,
    VisitorEvent,
    VisitorInput,
)
from prometheus_client import CollectorRegistry, start_http_server

from l2b2_common.calls import BoundedCaller, CallOutcome
from l2b2_common.catalog import load_catalog
from l2b2_common.codes import EscortOutcome
from l2b2_common.config import config_path
from l2b2_common.health import ERROR, HEALTH_TOPIC, OK, STALE, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED, RELIABLE, STATUS
from l2b2_common.tunables import ParameterError, declare_tunables, tunable
from l2b2_dialogue.responses import load_responses
from l2b2_office.figures import DEFAULT_FILE, FiguresCollector, FiguresError, FiguresStore, database_path
from l2b2_office.figures_recorder import AlertView, DialogueUpdate, FiguresRecorder, NotUnderstoodMatcher

ESCORT_STATUS = '/escort/_action/status'
ESCORT_GET_RESULT = '/escort/_action/get_result'
ALERTS_TOPIC = '/office/alerts'
_TERMINAL = {GoalStatus.STATUS_SUCCEEDED: EscortOutcome.ARRIVED, GoalStatus.STATUS_CANCELED: EscortOutcome.CANCELED,
             GoalStatus.STATUS_ABORTED: EscortOutcome.NAVIGATION_FAILED}


@dataclass(frozen=True)
class FiguresParams:
    database: str = tunable('', f'SQLite file of the figures; empty: {DEFAULT_FILE} in $L2B2_STATE_DIR or '
                                '~/.local/state/l2b2 (a relative path is under that directory).')
    timezone: str = tunable('Europe/Berlin', 'Office time zone: figures are counted per local hour.')
    catalog: str = tunable('', 'Department catalog (department labels); empty: config/departments.yaml.')
    metrics_enabled: bool = tunable(True, 'Serve the Prometheus endpoint /metrics for city IT monitoring.')
    metrics_host: str = tunable('127.0.0.1', 'Address of the metrics endpoint (the office network address to '
                                             'let city IT scrape it).')
    metrics_port: int = tunable(9108, 'TCP port of the metrics endpoint; 0 picks a free one (tests).',
                                min=0, max=65535)
    stale_after_s: float = tunable(5.0, 'A component silent on /l2b2/health this long is reported stale (3).',
                                   min=0.5, max=600.0)
    max_answer_s: float = tunable(20.0, 'An utterance not answered within this long is not an answer time.',
                                  min=1.0, max=300.0)
    escort_result_timeout_s: float = tunable(2.0, 'How long to wait for a finished escort goal\'s result '
                                                  '(else its status alone gives the outcome).', min=0.1, max=30.0)


class FiguresNode(LeanNode):
    """Subscribes to the robot's topics, counts into SQLite, serves /metrics."""

    def __init__(self, **kwargs: Any):
        super().__init__('figures', **kwargs)
        self.p = p = declare_tunables(self, FiguresParams)
        try:
            self.tz = ZoneInfo(p.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParameterError(self.get_name(), 'timezone', f'unknown time zone "{p.timezone}"') from None
        catalog = load_catalog(config_path(p.catalog) if p.catalog else None)
        self.not_understood = NotUnderstoodMatcher.from_responses(load_responses())
        path = database_path(p.database)
        try:
            self.store = FiguresStore(path, departments=catalog.ids(), timezone=p.timezone)
        except FiguresError as exc:
            raise ParameterError(self.get_name(), 'database', str(exc)) from None
        self.recorder = FiguresRecorder(self.store, max_answer_s=p.max_answer_s)
        self._lock = threading.Lock()
        #: component -> (level, monotonic time of its last report)
        self._health: dict[str, tuple[int, float]] = {}
        #: escort goal ids (bytes) already counted (or finished before this node started)
        self._goals: OrderedDict[bytes, None] = OrderedDict()
        self._closed = False
        #: Messages sent before this (wall clock, as DDS source timestamps on this machine) are history.
        self._started_ns = time.time_ns()
        self.health = HealthReporter(self, 'figures')
        self._caller = BoundedCaller(self)
        self._get_result = self.create_client(Escort.Impl.GetResultService, ESCORT_GET_RESULT)

        # STATUS (deeper than the publisher's LATCHED, compatible with it): a burst of state changes is not
        # folded into its last one on our side.
        self.create_subscription(DialogueState, '/dialogue/state', self._on_dialogue, STATUS)
        self.create_subscription(RecognizedSpeech, '/speech/recognized', self._on_heard, RELIABLE)
        self.create_subscription(VisitorInput, '/visitor/input', self._on_heard, RELIABLE)
        self.create_subscription(SayRequest, '/speech/say', self._on_say, RELIABLE)
        self.create_subscription(VisitorEvent, '/people/events', self._on_people, RELIABLE)
        self.create_subscription(GoalStatusArray, ESCORT_STATUS, self._on_escort_status, STATUS)
        self.create_subscription(ComponentHealth, HEALTH_TOPIC, self._on_health, RELIABLE)
        self.create_subscription(StaffAlerts, ALERTS_TOPIC, self._on_alerts, LATCHED)

        self._server = None
        self.metrics_port = 0
        if p.metrics_enabled:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(FiguresCollector(self.store, health=self._health_levels,
                                               alerts=lambda: self.recorder.active_alerts))
            try:
                self._server, self._server_thread = start_http_server(p.metrics_port, p.metrics_host,
                                                                      registry=registry)
            except OSError as exc:
                self.store.close()
                raise ParameterError(self.get_name(), 'metrics_port', f'cannot serve metrics on '
                                     f'{p.metrics_host}:{p.metrics_port}: {exc.strerror or exc}') from None
            self.metrics_port = self._server.server_address[1]
        self._set_ready()
        where = f', metrics on http://{p.metrics_host}:{self.metrics_port}/metrics' if self._server else ''
        self.get_logger().info(f'figures in {path}{where}')

    # -- helpers -------------------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        """Office time: the node clock when it is a real date (simulated time starts near 0), else the wall clock."""
        seconds = self.get_clock().now().nanoseconds / 1e9
        return datetime.fromtimestamp(seconds, self.tz) if seconds > 1e9 else datetime.now(self.tz)

    def _set_ready(self) -> None:
        self.health.set(OK, 'counting', database=str(self.store.path))

    def _record(self, fn, *args) -> None:
        """Run a recorder step; a database that fails (disk full, file removed) turns health to ERROR."""
        if self._closed:
            return
        try:
            fn(*args)
        except FiguresError as exc:
            self.health.set(ERROR, str(exc)[:200])
        else:
            if self.health.level == ERROR:
                self._set_ready()

    # -- subscriptions -------------------------------------------------------------------------------------------
    def _before_start(self, info: Any) -> bool:
        """A latched message published before this node started (a restart): already counted by its predecessor."""
        return 0 < info['source_timestamp'] < self._started_ns

    def _on_dialogue(self, msg: DialogueState, info: Any) -> None:
        update = DialogueUpdate(state=msg.state, session_id=msg.session_id, language=msg.language,
                                intent=msg.intent, target_id=msg.target_id, display_number=msg.display_number)
        self._record(self.recorder.dialogue, update, self._now(), self._before_start(info))

    def _on_heard(self, _msg: Any) -> None:
        self._record(self.recorder.visitor_spoke, self._now())

    def _on_say(self, msg: SayRequest) -> None:
        if not msg.utterance_id.startswith('dialogue-'):
            return  # the escort's prompts and staff speaking through the robot are no answers
        self._record(self.recorder.robot_said, self._now(), self.not_understood(msg.text))

    def _on_people(self, msg: VisitorEvent) -> None:
        if msg.event == VisitorEvent.APPROACHED:
            self._record(self.recorder.person_approached, int(msg.person_id), self._now())

    def _on_alerts(self, msg: Any, info: Any) -> None:
        views = [AlertView(a.id, a.kind, bool(a.active), bool(a.acknowledged)) for a in msg.alerts]
        self._record(self.recorder.alerts, views, self._now(), self._before_start(info))

    def _on_health(self, msg: ComponentHealth) -> None:
        with self._lock:
            self._health[msg.component] = (int(msg.level), time.monotonic())

    def _health_levels(self) -> dict[str, int]:
        """Each component's last level, or STALE when it has been silent too long (read at scrape time)."""
        now = time.monotonic()
        with self._lock:
            return {c: (level if now - at <= self.p.stale_after_s else int(STALE))
                    for c, (level, at) in self._health.items()}

    def _on_escort_status(self, msg: GoalStatusArray, info: Any) -> None:
        """A goal seen finished is counted once, with the outcome from the action's get_result service.

        Goals already finished in a status published before this node started were counted by its predecessor.
        """
        history = self._before_start(info)
        for status in msg.status_list:
            goal_id = bytes(status.goal_info.goal_id.uuid)
            if status.status not in _TERMINAL or goal_id in self._goals:
                continue
            self._goals[goal_id] = None
            while len(self._goals) > 1000:
                self._goals.popitem(last=False)
            if history:
                continue
            request = Escort.Impl.GetResultService.Request()
            request.goal_id = status.goal_info.goal_id
            fallback = _TERMINAL[status.status]
            self._caller.call(self._get_result, request,
                              lambda outcome, fallback=fallback: self._on_escort_result(outcome, fallback),
                              server_wait_s=self.p.escort_result_timeout_s,
                              answer_timeout_s=self.p.escort_result_timeout_s)

    def _on_escort_result(self, outcome: CallOutcome, fallback: EscortOutcome) -> None:
        result = int(outcome.value.result.outcome) if outcome.ok else int(fallback)
        self._record(self.recorder.escort_finished, result, self._now())

    def close(self) -> None:
        """Stop the metrics server, count the conversation under way, close the database."""
        if self._closed:
            return
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        try:
            self.recorder.close()
        except FiguresError as exc:
            self.get_logger().error(str(exc)[:200])
        self._closed = True
        self.store.close()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: FiguresNode(), args)


if __name__ == '__main__':
    raise SystemExit(main())

"""Play scenarios against the real running stack and check what the robot does.

The runner is a visitor and an observer on the ROS graph: it speaks (text on /speech/recognized, or
espeak-ng audio on /audio/raw), touches the visitor screen (/visitor/input), moves simulated visitors,
presses the emergency stop, and watches /dialogue/state, /speech/say, /speech/status and /cmd_vel.
It measures what the product promises: first word -> robot moving, speech end -> robot answering.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import math
from pathlib import Path
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any
import uuid
import wave

from geometry_msgs.msg import Twist
from l2b2_interfaces.msg import (
    AudioChunk,
    DialogueState,
    RecognizedSpeech,
    RobotStatus,
    SayRequest,
    SpeechStatus,
    VisitorInput,
)
import psutil
import rclpy
from rclpy.executors import MultiThreadedExecutor
from std_srvs.srv import SetBool, Trigger

from l2b2_bringup.scenario import Scenario, Step
from l2b2_common.lean_node import LeanNode
from l2b2_common.qos import AUDIO, LATCHED, STATUS
from l2b2_common.ros_harness import destroy_node

MOVING_MPS = 0.05


@dataclass
class ScenarioResult:
    name: str
    scenario_class: str
    success: bool
    duration_s: float
    failure: str = ''
    first_word_to_moving_s: float | None = None
    speech_end_to_answer_ms: list[float] = field(default_factory=list)
    robot_said: list[str] = field(default_factory=list)


class _Log:
    """Timestamped observations (monotonic wall clock) of one topic."""

    def __init__(self):
        self.items: list[tuple[float, Any]] = []
        self.lock = threading.Lock()

    def add(self, msg: Any) -> None:
        with self.lock:
            self.items.append((time.monotonic(), msg))

    def since(self, t0: float) -> list[tuple[float, Any]]:
        with self.lock:
            return [(t, m) for t, m in self.items if t >= t0]

    def last(self) -> Any:
        with self.lock:
            return self.items[-1][1] if self.items else None


class ScenarioRunner:
    """Owns a private rclpy context spun in a background thread."""

    def __init__(self, *, sim_control: Callable[[str, dict], bool] | None = None, log=print):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = LeanNode('l2b2_scenario_runner', context=self.context)
        self.executor = MultiThreadedExecutor(num_threads=3, context=self.context)
        self.executor.add_node(self.node)
        self._log = log
        n = self.node
        self.states, self.says, self.status, self.moving = _Log(), _Log(), _Log(), _Log()
        self.robot = _Log()
        n.create_subscription(RobotStatus, '/robot/status', self.robot.add, 10)
        n.create_subscription(DialogueState, '/dialogue/state', self.states.add, LATCHED)
        n.create_subscription(SayRequest, '/speech/say', self.says.add, 50)
        n.create_subscription(SpeechStatus, '/speech/status', self.status.add, STATUS)
        n.create_subscription(Twist, '/cmd_vel', self._on_cmd, 50)
        self.speech_pub = n.create_publisher(RecognizedSpeech, '/speech/recognized', 10)
        self.touch_pub = n.create_publisher(VisitorInput, '/visitor/input', 10)
        self.audio_pub = n.create_publisher(AudioChunk, '/audio/raw', AUDIO)
        self.estop = n.create_client(SetBool, '/safety/estop')
        self.reset = n.create_client(Trigger, '/dialogue/reset')
        self.sim_control = sim_control
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=2.0)
        destroy_node(self.node)
        rclpy.shutdown(context=self.context)

    def _on_cmd(self, msg: Twist) -> None:
        if abs(msg.linear.x) > MOVING_MPS or abs(msg.angular.z) > 0.2:
            self.moving.add(msg)

    # --- waiting --------------------------------------------------------------------------------
    @staticmethod
    def _wait(predicate: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.02)

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Wait until the dialogue is up and idle; returns '' or what is missing."""
        ok = self._wait(lambda: self.reset.service_is_ready() and self.states.last() is not None, timeout)
        return '' if ok else 'dialogue node not ready (no /dialogue/reset service or /dialogue/state)'

    # --- one scenario ---------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> ScenarioResult:
        start = time.monotonic()
        result = ScenarioResult(scenario.name, scenario.scenario_class, success=False, duration_s=0.0)
        self._prepare()
        mark = time.monotonic()
        first_word: float | None = None
        self._speech_ends: list[float] = []
        try:
            for step in scenario.steps:
                if step.is_action:
                    mark = time.monotonic()
                    if step.kind in ('say', 'touch') and first_word is None:
                        first_word = mark
                    error = self._act(step, scenario, result)
                else:
                    error = self._expect(step, mark)
                if error:
                    result.failure = f'{step.where} ({step.kind}): {error}'
                    break
            else:
                result.success = True
        finally:
            if first_word is not None:
                moved = self.moving.since(first_word)
                if moved:
                    result.first_word_to_moving_s = moved[0][0] - first_word
            result.robot_said = [m.text for _, m in self.says.since(start)]
            result.speech_end_to_answer_ms = self._answer_latencies()
            result.duration_s = time.monotonic() - start
            self._cleanup()
        return result

    def _prepare(self) -> None:
        self.wait_idle_robot()
        if self.sim_control:
            self.sim_control('reset', {})

    def wait_idle_robot(self, timeout: float = 180.0) -> None:
        """A new visit starts with the robot idle (the previous one may still be driving home) and the
        dialogue reset."""
        self._wait(lambda: getattr(self.robot.last(), 'mode', 'idle') in ('idle', 'estop'), timeout)
        self._call(self.reset, Trigger.Request())
        self._wait(lambda: (self.states.last() or DialogueState()).state == 'idle', 10.0)

    def _cleanup(self) -> None:
        state = self.states.last()
        if state is not None and getattr(state, 'state', '') == 'estop':
            self._call(self.estop, SetBool.Request(data=False))

    def _call(self, client, request, timeout: float = 10.0):
        if not client.wait_for_service(timeout_sec=timeout):
            return None
        future = client.call_async(request)
        self._wait(future.done, timeout)
        return future.result() if future.done() else None

    # --- actions ----------------------------------------------------------------------------------
    def _act(self, step: Step, scenario: Scenario, result: ScenarioResult) -> str:
        a = step.args
        if step.kind in ('say', 'touch'):
            self._wait_until_robot_finished_speaking()
        if step.kind == 'say':
            lang = a.get('language', scenario.language)
            t_end = self._say_audio(a['text'], lang) if a.get('audio') else self._say_text(a['text'], lang)
            self._speech_ends.append(t_end)
            return ''
        if step.kind == 'touch':
            msg = VisitorInput(action=str(a['action']), value=str(a.get('value', '')),
                               language=str(a.get('language', scenario.language)))
            msg.header.stamp = self.node.get_clock().now().to_msg()
            self.touch_pub.publish(msg)
            return ''
        if step.kind == 'estop':
            engage = bool(a.get('engage', True))
            response = self._call(self.estop, SetBool.Request(data=engage))
            return '' if response and response.success else 'the safety gate did not answer /safety/estop'
        if step.kind in ('approach', 'visitor'):
            if not self.sim_control:
                return '' if step.kind == 'approach' else 'no simulator to move visitors'
            ok = self.sim_control(a.get('behaviour', 'approach'), a)
            return '' if ok else f'simulator refused visitor behaviour {a.get("behaviour", "approach")}'
        if step.kind == 'appointment_system':
            return _signal_appointment_system(a['action'])
        return f'unknown action {step.kind}'

    def _wait_until_robot_finished_speaking(self, timeout: float = 30.0) -> None:
        """A visitor lets the robot finish its sentence before answering (as measured visits must).

        Without a TTS node on the graph nothing is ever spoken, and nothing is waited for."""
        def finished() -> bool:
            last_say = self.says.items[-1][0] if self.says.items else None
            if last_say is None or not self.status.items:
                return True
            idle = [t for t, m in self.status.since(last_say) if m.state == SpeechStatus.IDLE]
            return bool(idle) and self.status.last().state == SpeechStatus.IDLE
        if self.node.count_publishers('/speech/status') > 0:
            self._wait(finished, timeout)

    def _say_text(self, text: str, language: str) -> float:
        msg = RecognizedSpeech(text=text, language=language, confidence=1.0, source='scenario')
        now = self.node.get_clock().now().to_msg()
        msg.header.stamp = msg.speech_start = msg.speech_end = now
        self._wait(lambda: self.speech_pub.get_subscription_count() > 0, 10.0)
        self.speech_pub.publish(msg)
        return time.monotonic()

    def _say_audio(self, text: str, language: str) -> float:
        """Speak like a visitor: espeak-ng audio streamed in real time; returns when the speech ended."""
        samples = synthesize(text, language)
        chunk = 320  # 20 ms at 16 kHz
        padded = samples + [0] * (16000 + (-len(samples)) % chunk)  # 1 s of silence closes the VAD segment
        start = time.monotonic()
        speech_end = start
        for i in range(0, len(padded), chunk):
            msg = AudioChunk(sample_rate=16000, samples=padded[i:i + chunk])
            msg.header.stamp = self.node.get_clock().now().to_msg()
            self.audio_pub.publish(msg)
            if i < len(samples):
                speech_end = time.monotonic()
            time.sleep(max(0.0, start + (i + chunk) / 16000.0 - time.monotonic()))  # real-time pacing
        return speech_end

    def _answer_latencies(self) -> list[float]:
        """For each time the visitor stopped speaking: ms until the robot's voice started (TTS SPEAKING),
        counted only when it started before the visitor spoke again."""
        ends = self._speech_ends
        latencies = []
        for i, t_end in enumerate(ends):
            t_next = ends[i + 1] if i + 1 < len(ends) else float('inf')
            speaking = [t for t, m in self.status.since(t_end) if m.state == SpeechStatus.SPEAKING and t < t_next]
            if speaking:
                latencies.append((speaking[0] - t_end) * 1000.0)
        return latencies

    # --- expectations -----------------------------------------------------------------------------
    def _expect(self, step: Step, mark: float) -> str:
        a, within = step.args, step.within()
        if step.kind == 'expect_state':
            found = self._wait(lambda: any(_state_matches(m, a) for _, m in self.states.since(mark)
                                           ) or _state_matches(self.states.last(), a), within)
            return '' if found else f'no dialogue state matching {a} within {within:.0f} s; last: {_brief(self.states.last())}'
        if step.kind == 'expect_say':
            words = a.get('contains', [])
            words = [words] if isinstance(words, str) else list(words)
            lang = a.get('language')

            def said():
                return any((not lang or m.language == lang) and all(w.lower() in m.text.lower() for w in words)
                           for _, m in self.says.since(mark))
            return '' if self._wait(said, within) else f'robot did not say {words} ({lang or "any language"})'
        if step.kind == 'expect_moving':
            return '' if self._wait(lambda: self.moving.since(mark), within) else 'robot did not start moving'
        if step.kind == 'expect_stopped':
            hold = float(a.get('hold_s', 1.0))

            def stopped():
                last = self.moving.since(mark)
                return time.monotonic() - (last[-1][0] if last else mark) >= hold
            return '' if self._wait(stopped, within + hold) else 'robot kept moving'
        if step.kind == 'expect_idle':
            ok = self._wait(lambda: (self.states.last() or DialogueState()).state == 'idle', within)
            return '' if ok else f'dialogue not back to idle; last: {_brief(self.states.last())}'
        return f'unknown expectation {step.kind}'


def _state_matches(msg: DialogueState | None, want: dict) -> bool:
    if msg is None:
        return False
    states = want.get('state')
    if states is not None:
        states = [states] if isinstance(states, str) else list(states)
        if msg.state not in states:
            return False
    if 'target' in want and msg.target_id != (want['target'] or ''):
        return False
    if 'language' in want and msg.language != want['language']:
        return False
    if 'intent' in want and msg.intent != want['intent']:
        return False
    if want.get('display_number') and not msg.display_number:
        return False
    return True


def _brief(msg: DialogueState | None) -> str:
    if msg is None:
        return 'none'
    return f'state={msg.state} lang={msg.language} intent={msg.intent} target={msg.target_id}'


def _signal_appointment_system(action: str) -> str:
    """Make the embedded appointment system hang (stop), recover (continue) or crash (kill)."""
    import signal
    sig = {'stop': signal.SIGSTOP, 'continue': signal.SIGCONT, 'kill': signal.SIGKILL}[action]
    hit = 0
    for proc in psutil.process_iter(['cmdline']):
        cmd = ' '.join(proc.info['cmdline'] or [])
        if 'l2b2-appointment-server' in cmd or 'l2b2_queue_bridge.appointment_server' in cmd:
            try:
                proc.send_signal(sig)
                hit += 1
            except psutil.Error:
                pass
    return '' if hit else 'no running appointment server found'


def synthesize(text: str, language: str) -> list[int]:
    """16 kHz mono int16 samples of espeak-ng speaking ``text`` (a German or Turkish voice)."""
    espeak = shutil.which('espeak-ng')
    if not espeak:
        raise RuntimeError('espeak-ng is not installed (apt-get install espeak-ng)')
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / f'{uuid.uuid4().hex}.wav'
        subprocess.run([espeak, '-v', language, '-s', '150', '-w', str(wav_path), text], check=True,
                       capture_output=True)
        with wave.open(str(wav_path)) as w:
            rate, frames = w.getframerate(), w.readframes(w.getnframes())
    import numpy as np
    audio = np.frombuffer(frames, dtype='<i2').astype(np.float32)
    if rate != 16000:
        n = int(math.floor(len(audio) * 16000 / rate))
        audio = np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio)
    return audio.astype(np.int16).tolist()

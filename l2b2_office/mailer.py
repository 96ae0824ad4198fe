"""Staff alerts by e-mail through the city's SMTP server (issue 16): off by default, never in the node's way.

One e-mail per raised alert, sent by a worker thread from a bounded queue, so a slow or unreachable
server never blocks the node; when the queue is full the alert is dropped from mail (it is still on
the panel) and counted. Failures are counted and kept as a short reason, never raised. The body names
the kind, severity, source, time and robot: no visitor data, and the password is never logged.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
import os
from pathlib import Path
import queue
import smtplib
import ssl
import threading

from l2b2_office.alerts import Alert, iso

#: Environment variable holding the SMTP password (wins over the password file).
PASSWORD_ENV = 'L2B2_SMTP_PASSWORD'


class MailConfigError(ValueError):
    """The password cannot be read (the node reports it as a configuration error naming the key)."""

    def __init__(self, key: str, reason: str):
        self.key, self.reason = key, reason
        super().__init__(f'{key}: {reason}')


def read_password(user: str, password_file: str) -> str:
    """``$L2B2_SMTP_PASSWORD``, else the first line of ``password_file``; '' when no user logs in."""
    if not user:
        return ''
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    if not password_file:
        raise MailConfigError('smtp_password_file', f'smtp_user is set but neither ${PASSWORD_ENV} nor '
                              'smtp_password_file gives a password')
    try:
        text = Path(password_file).expanduser().read_text(encoding='utf-8')
    except OSError as exc:
        raise MailConfigError('smtp_password_file', f'cannot read {password_file}: {exc.strerror or exc}') from None
    password = text.splitlines()[0].strip() if text.strip() else ''
    if not password:
        raise MailConfigError('smtp_password_file', f'{password_file} is empty')
    return password


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    mail_from: str
    mail_to: list[str]
    robot_name: str = 'l2b2'
    starttls: bool = True
    user: str = ''
    password: str = field(default='', repr=False)
    timeout_s: float = 10.0
    queue_size: int = 50


@dataclass(frozen=True)
class MailStats:
    sent: int
    failed: int
    dropped: int
    last_error: str


def compose(alert: Alert, settings: MailSettings) -> EmailMessage:
    """The e-mail of one alert: what, how bad, where in the stack, when, which robot — nothing else."""
    msg = EmailMessage()
    msg['Subject'] = f'[{settings.robot_name}] {alert.severity.name}: {alert.kind} ({alert.source})'
    msg['From'] = settings.mail_from
    msg['To'] = ', '.join(settings.mail_to)
    msg['Date'] = formatdate(alert.raised, localtime=True)
    msg['Message-ID'] = make_msgid(domain=settings.mail_from.rpartition('@')[2] or None)
    msg.set_content('\n'.join((
        alert.text,
        '',
        f'Robot:    {settings.robot_name}',
        f'Kind:     {alert.kind}',
        f'Severity: {alert.severity.name.lower()}',
        f'Source:   {alert.source}',
        f'Time:     {iso(alert.raised)}',
        f'Alert id: {alert.id}',
        '',
        'Please acknowledge it on the staff panel.',
    )) + '\n')
    return msg


class AlertMailer:
    """Sends :func:`compose` d alerts from a worker thread; :meth:`submit` never blocks."""

    def __init__(self, settings: MailSettings, *, ssl_context: ssl.SSLContext | None = None,
                 on_result: Callable[[MailStats], None] | None = None):
        self.settings = settings
        self._ssl = ssl_context
        self._on_result = on_result
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=max(1, settings.queue_size))
        self._lock = threading.Lock()
        self._sent = self._failed = self._dropped = 0
        self._last_error = ''
        self._closed = False
        self._thread = threading.Thread(target=self._run, name='alert_mailer', daemon=True)
        self._thread.start()

    def submit(self, alert: Alert) -> bool:
        """Queue one alert's e-mail; False (counted as dropped) when closed or the queue is full."""
        try:
            if self._closed:
                raise queue.Full
            self._queue.put_nowait(alert)
            return True
        except queue.Full:
            with self._lock:
                self._dropped += 1
            return False

    @property
    def queued(self) -> int:
        """E-mails waiting for the worker (not counting the one being sent)."""
        return self._queue.qsize()

    @property
    def stats(self) -> MailStats:
        with self._lock:
            return MailStats(self._sent, self._failed, self._dropped, self._last_error)

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop after the e-mail being sent (bounded by the SMTP timeout); the rest of the queue is dropped."""
        self._closed = True
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            with self._lock:
                self._dropped += 1
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        self._thread.join(timeout_s)

    # -- worker -------------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None or self._closed:
                return
            try:
                self._send(compose(alert, self.settings))
            except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError) as exc:
                with self._lock:
                    self._failed += 1
                    self._last_error = _reason(exc)
            else:
                with self._lock:
                    self._sent += 1
                    self._last_error = ''
            if self._on_result is not None:
                self._on_result(self.stats)

    def _send(self, msg: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._ssl or ssl.create_default_context())
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password)
            smtp.send_message(msg)


def _reason(exc: BaseException) -> str:
    """A short reason for health and logs. SMTP replies are the server's words about our request (never
    the password: smtplib sends it encoded and the server does not echo it)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode('utf-8', 'replace') if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f'{type(exc).__name__} {exc.smtp_code}: {text}'[:160]
    return f'{type(exc).__name__}: {exc}'[:160]

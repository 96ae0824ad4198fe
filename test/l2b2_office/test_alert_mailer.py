"""Issue 16, staff alerts by e-mail: against a real local SMTP server (aiosmtpd), with STARTTLS and login,
and against a server that is down or hangs — counted, never blocking the caller."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
import socket
import ssl
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
import pytest

from l2b2_office.alerts import AlertBook
from l2b2_office.mailer import PASSWORD_ENV, AlertMailer, MailConfigError, MailSettings, compose, read_password

T0 = 1_780_000_000.0
SECRET = 'S3cret-Passw0rd!'


def wait_for(predicate: Callable[[], object], timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f'timed out after {timeout} s waiting for {what}')
        time.sleep(0.01)
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[tuple[list[str], Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default_policy)))
        return '250 OK'

    def all(self):
        with self.lock:
            return list(self.messages)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname='127.0.0.1', port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def settings(port: int, **changes) -> MailSettings:
    values = dict(host='127.0.0.1', port=port, mail_from='l2b2@buergerbuero.example', starttls=False,
                  mail_to=['leitstand@buergerbuero.example', 'it@buergerbuero.example'], robot_name='l2b2-eg',
                  timeout_s=5.0)
    values.update(changes)
    return MailSettings(**values)


def test_one_mail_per_alert_with_kind_source_time_and_robot(smtp_server):
    controller, inbox = smtp_server
    mailer = AlertMailer(settings(controller.port))
    try:
        alert = AlertBook().raise_('visitor_lost', 'escort', T0)
        assert mailer.submit(alert)
        rcpts, msg = wait_for(lambda: inbox.all(), 10.0, 'the mail at the SMTP server')[0]
        wait_for(lambda: mailer.stats.sent == 1, 5.0, 'the sent count')
    finally:
        mailer.close()
    assert rcpts == ['leitstand@buergerbuero.example', 'it@buergerbuero.example']
    assert msg['Subject'] == '[l2b2-eg] WARNING: visitor_lost (escort)'
    assert msg['From'] == 'l2b2@buergerbuero.example'
    body = msg.get_content()
    for line in ('Robot:    l2b2-eg', 'Kind:     visitor_lost', 'Source:   escort', 'Severity: warning',
                 'Time:     2026-05-28T20:26:40.000+00:00', f'Alert id: {alert.id}', alert.text):
        assert line in body
    assert mailer.stats.failed == 0 and mailer.stats.dropped == 0


def test_body_has_nothing_but_the_alert():
    """A visitor's name or booking number cannot enter an alert; the mail has only the alert's own fields."""
    alert = AlertBook().raise_('checkin_failures', 'Müller 4711', T0)
    msg = compose(alert, settings(25))
    text = msg.as_string()
    assert 'Müller' not in text and '4711' not in text and 'source' not in msg['Subject'].lower()
    assert '(unknown)' in msg['Subject']


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for 127.0.0.1 (the city's server has a real one)."""
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', str(key), '-out', str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_starttls_and_login_with_the_password_from_a_file(tls_files, tmp_path, monkeypatch, caplog):
    cert, key = tls_files
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SECRET.encode(), handled=False)  # False: answer 535

    inbox = Inbox()
    controller = Controller(inbox, hostname='127.0.0.1', port=free_port(), tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True,
                            auth_exclude_mechanism=['LOGIN'])  # PLAIN only: one attempt per mail
    controller.start()
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    secret_file = tmp_path / 'smtp_password'
    secret_file.write_text(SECRET + '\n', encoding='utf-8')
    password = read_password('robot', str(secret_file))
    client_tls = ssl.create_default_context(cafile=str(cert))
    good = AlertMailer(settings(controller.port, starttls=True, user='robot', password=password),
                       ssl_context=client_tls)
    wrong = AlertMailer(settings(controller.port, starttls=True, user='robot', password='wrong'),
                        ssl_context=client_tls)
    try:
        assert good.submit(AlertBook().raise_('estop', 'safety_gate', T0))
        wait_for(lambda: inbox.all(), 15.0, 'the mail over STARTTLS')
        assert wrong.submit(AlertBook().raise_('estop', 'safety_gate', T0))
        wait_for(lambda: wrong.stats.failed == 1, 15.0, 'the refused login counted')
    finally:
        good.close()
        wrong.close()
        controller.stop()
    assert logins == [(b'robot', SECRET.encode()), (b'robot', b'wrong')]
    assert good.stats.sent == 1 and wrong.stats.sent == 0
    assert 'SMTPAuthenticationError 535' in wrong.stats.last_error
    assert 'wrong' not in wrong.stats.last_error and SECRET not in repr(good.settings)
    assert SECRET not in caplog.text


def test_password_sources(tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert read_password('', '') == ''  # no login, no password
    with pytest.raises(MailConfigError, match='smtp_password_file'):
        read_password('robot', '')
    with pytest.raises(MailConfigError, match='cannot read'):
        read_password('robot', str(tmp_path / 'missing'))
    monkeypatch.setenv(PASSWORD_ENV, 'from-env')
    assert read_password('robot', str(tmp_path / 'missing')) == 'from-env'


def test_a_down_server_is_counted_and_does_not_block():
    mailer = AlertMailer(settings(free_port(), timeout_s=2.0))  # nothing listens there
    try:
        book = AlertBook()
        assert mailer.submit(book.raise_('queue_down', 'queue_bridge', T0))
        wait_for(lambda: mailer.stats.failed == 1, 10.0, 'the failure counted')
    finally:
        mailer.close()
    assert 'ConnectionRefusedError' in mailer.stats.last_error and mailer.stats.sent == 0


def test_a_hanging_server_never_blocks_submit_and_the_queue_is_bounded():
    """A server that accepts and never answers: the worker waits (up to its timeout), the caller does not."""
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(8)
        mailer = AlertMailer(settings(silent.getsockname()[1], timeout_s=3.0, queue_size=2))
        try:
            book = AlertBook()
            assert mailer.submit(book.raise_('node_missing', 'node_0', T0))
            wait_for(lambda: mailer.queued == 0, 10.0, 'the worker to take the first mail')
            alerts = [book.raise_('node_missing', f'node_{i}', T0 + i) for i in range(1, 6)]
            results = [mailer.submit(a) for a in alerts]  # returns at once, whatever the server does
            # The worker hangs on the first, the queue holds two; the rest are dropped (still on the panel).
            assert results == [True, True, False, False, False] and mailer.stats.dropped == 3
        finally:
            started = time.monotonic()
            mailer.close(timeout_s=0.1)
            assert time.monotonic() - started < 2.0  # close does not wait for the hung connection either
    wait_for(lambda: mailer.stats.failed >= 1, 10.0, 'the timed-out mail counted')
    assert mailer.stats.sent == 0

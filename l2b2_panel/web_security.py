"""Request checks the panel's web server applies before any handler: who is asking, from where, via whom.

No ROS and no aiohttp application here, only the rules, so they read (and are tested) in one place:

- **Client address**: the TCP peer, unless that peer is a configured trusted proxy (the recommended
  HTTPS proxy in front of the panel); then the right-most ``X-Forwarded-For`` entry that is not itself
  a trusted proxy. A client cannot spoof its address by sending the header itself.
- **Host allow-list** (DNS rebinding): a page loaded from ``evil.example`` that resolves to the robot
  sends ``Host: evil.example``; only configured names (and loopback) are served.
- **Headers on every response**, error pages included; the server does not name its software.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: Sent with every response (pages, API answers, errors, static files).
SECURITY_HEADERS = {
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
}
#: Replaces aiohttp's ``Server: Python/3.x aiohttp/3.y`` (no version for a scanner to look up).
SERVER_NAME = 'l2b2-panel'
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: list[str]) -> list[Network]:
    """Parse "192.168.1.0/24", "10.0.0.1", "::1/128" (raises ValueError naming the bad entry)."""
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().split('%')[0])
    except ValueError:
        return None


def in_networks(text: str, nets: list[Network]) -> bool:
    addr = _address(text)
    return addr is not None and any(addr in n for n in nets)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: list[Network]) -> str:
    """The address a request comes from, for throttling and the audit log (see module docstring)."""
    peer = peer or '?'
    if not forwarded_for or not in_networks(peer, trusted_proxies):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(',') if h.strip()]):
        if _address(hop) is None:
            return peer  # a malformed header: trust only what we saw ourselves
        if not in_networks(hop, trusted_proxies):
            return hop
    return peer


def host_name(host_header: str | None) -> str:
    """The name part of a Host header: ``[::1]:8080`` -> ``::1``, ``Robot.local:80`` -> ``robot.local``."""
    host = (host_header or '').strip().lower()
    if host.startswith('['):
        return host[1:host.find(']')] if ']' in host else host
    return host.rsplit(':', 1)[0] if host.count(':') == 1 else host


def host_allowed(host_header: str | None, allowed: tuple[str, ...]) -> bool:
    return host_name(host_header) in allowed


def same_origin(origin: str | None, sec_fetch_site: str | None, host_header: str) -> bool:
    """False for a browser request from another site (CSRF, cross-site WebSocket hijacking)."""
    if (sec_fetch_site or 'same-origin') not in ('same-origin', 'none'):
        return False
    if origin is None:
        return True  # not a browser cross-site request; controls still need cookie + CSRF token
    parts = urlsplit(origin)
    return parts.scheme in ('http', 'https') and parts.netloc.lower() == host_header.lower()

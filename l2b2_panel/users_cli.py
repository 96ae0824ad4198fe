"""``l2b2-panel --set-password USER [--role staff|observer]``: add or change a panel user (first start)."""
from __future__ import annotations

import argparse
import getpass
from pathlib import Path
import sys

from l2b2_panel.auth import ROLES, STAFF, AuthError, UserStore, default_users_file


def wants_cli(argv: list[str]) -> bool:
    """Whether the command line asks for user management rather than the node."""
    return '--set-password' in argv or any(a.startswith('--set-password=') for a in argv)


def set_password_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-panel', description='Set a staff password for the panel.')
    parser.add_argument('--set-password', metavar='USER', required=True, help='user name to add or change')
    parser.add_argument('--role', choices=ROLES, default=STAFF, help='staff (controls) or observer (read only)')
    parser.add_argument('--users-file', type=Path, default=None, help=f'default: {default_users_file()}')
    args = parser.parse_args(argv)
    path = args.users_file or default_users_file()
    if sys.stdin.isatty():
        password = getpass.getpass(f'New password for {args.set_password}: ')
        if getpass.getpass('Repeat: ') != password:
            print('l2b2-panel: the passwords differ', file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip('\n')
    try:
        store = UserStore(path)
        store.set_password(args.set_password, password, args.role)
    except AuthError as exc:
        print(f'l2b2-panel: {exc}', file=sys.stderr)
        return 1
    print(f'l2b2-panel: {args.role} "{args.set_password}" saved in {path}')
    return 0

"""Staff accounts: sync from the configuration file, session revocation, the state tokens are checked against."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text, update
from sqlmodel import Session, col

from ..config import UserConfig
from ..db import Database
from ..models import AuditLog, UserAccount
from ..pgchannel import NOTIFY_USERS_SQL
from ..timeutil import utcnow
from .auth import Principal, hash_password


@dataclass(frozen=True, slots=True)
class UserState:
    """What a staff user may do now, read from the database (never from an old token)."""

    principal: Principal
    active: bool
    generation: int  # tokens carry the generation they were issued under
    password_hash: str


def _state(u: UserAccount) -> UserState:
    windows = frozenset(int(n) for n in u.windows.split(",") if n)
    who = Principal("user", u.username, u.role, u.hall_code, windows)
    return UserState(who, u.active, u.session_gen, u.password_hash)


def user_state(session: Session, username: str) -> UserState | None:
    """The user's current state, or None for a name that never existed."""
    u = session.get(UserAccount, username)
    return None if u is None else _state(u)


def load_user(db: Database, username: str) -> UserState | None:
    """`user_state` on a snapshot of its own (blocking: run it off the event loop)."""
    with db.read() as s:
        return user_state(s, username)


def announce(session: Session, names: Iterable[str]) -> None:
    """Tell every server process that these users' rows change in this transaction: on PostgreSQL a NOTIFY
    each (pgchannel.py), delivered at commit, after which each process's listener drops what it remembered of
    them (services/auth.py `TokenService.revoked`). The writing process drops its own copy after the commit
    itself. SQLite has one server process per file and no NOTIFY: a CLI's write reaches the server within
    `USER_FRESH_S` (services/auth.py)."""
    wanted = sorted(set(names))
    if wanted and session.get_bind().dialect.name == "postgresql":
        session.execute(text(NOTIFY_USERS_SQL), {"names": wanted})


def sync_users(session: Session, users: list[UserConfig], *, fp_key: bytes) -> None:
    """Make the staff accounts match the configuration file.

    A user missing from the file is deactivated; a new password, role, hall or window binding, or a
    deactivation, raises the user's session generation, so every token issued before is refused."""
    listed, changed = set(), set()
    for user in users:
        listed.add(user.username)
        u = session.get(UserAccount, user.username)
        fp = ""
        if user.password_hash:
            pw_hash = user.password_hash
        else:
            assert user.password is not None
            plain = user.password.get_secret_value()
            fp = hmac.new(fp_key, f"{user.username}\0{plain}".encode(), hashlib.sha256).hexdigest()
            pw_hash = u.password_hash if u is not None and u.config_fp == fp else hash_password(plain)
        windows = ",".join(str(n) for n in user.windows)
        if u is None:  # a process may remember that no such user exists
            u = UserAccount(username=user.username, role=user.role, password_hash=pw_hash)
            changed.add(user.username)
        elif (u.password_hash, u.role, u.hall_code, u.windows, u.active) != (
            pw_hash,
            user.role,
            user.hall,
            windows,
            True,
        ):
            u.session_gen += 1
            changed.add(user.username)
        u.display_name, u.role, u.hall_code, u.password_hash = user.display_name, user.role, user.hall, pw_hash
        u.windows, u.active, u.config_fp = windows, True, fp
        session.add(u)
    gone = col(UserAccount.active) & col(UserAccount.username).not_in(listed) if listed else col(UserAccount.active)
    removed = session.execute(
        update(UserAccount)
        .where(gone)
        .values(active=False, session_gen=col(UserAccount.session_gen) + 1)
        .returning(col(UserAccount.username))
    ).scalars()
    announce(session, changed.union(removed))


def revoke_sessions(session: Session, username: str) -> bool:
    """Refuse every token the user holds now (they may log in again); False for an unknown user."""
    found = session.execute(
        update(UserAccount)
        .where(col(UserAccount.username) == username)
        .values(session_gen=col(UserAccount.session_gen) + 1)
        .returning(col(UserAccount.username))
    ).first()
    if found is None:
        return False
    announce(session, [username])
    return True


def revoke_user(db: Database, username: str, *, actor: str) -> bool:
    """Revoke the user's sessions and record who did it (blocking: run it off the event loop). Every other
    server process hears of it at the commit (PostgreSQL); a server in this process drops its own copy of
    the user's row afterwards (`TokenService.revoked`)."""
    with db.write() as s:
        if not revoke_sessions(s, username):
            return False
        s.add(AuditLog(at=utcnow(), actor=actor, action="users.revoke", subject=f"user:{username}"))
        return True

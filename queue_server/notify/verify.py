"""One-time codes that prove a phone is the caller's (通办取号, 网上申报): sent through the outbox, kept hashed.

A code is six digits, lives `CODE_TTL`, and dies after `MAX_ATTEMPTS` wrong tries or its first right one;
asking for a new code ends the phone's earlier ones. The code is marked `messages.secret` in the message:
staff lists and logs show it masked; only the citizen's phone gets it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel import col

from ..crypto import PiiCipher
from ..errors import Invalid
from ..ids import InvalidPhone, validate_phone
from ..ratelimit import RateLimiter
from ..services.tx import HallTx
from . import messages
from .models import PhoneCode
from .outbox import enqueue

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def phone_key(cipher: PiiCipher, phone: str) -> str:
    """The keyed hash a phone's codes (and its remote tickets) are found by."""
    return cipher.keyed_hash("phone:" + phone)


async def guard_phone(
    limiter: RateLimiter, cipher: PiiCipher, raw: str, *, step: str, client: str, per_ip: int, per_phone: int
) -> str:
    """The valid phone of a step that sends or spends a code (422 otherwise), counted per client address and
    per phone under `step` (429 when either budget for the hour is spent): 通办取号, 网上申报."""
    try:
        phone = validate_phone(raw)
    except InvalidPhone as exc:
        raise Invalid(str(exc)) from None
    await limiter.check(f"{step}-ip:{client}", per_hour=per_ip)
    await limiter.check(f"{step}-phone:{phone_key(cipher, phone)}", per_hour=per_phone)
    return phone


def _code_hash(cipher: PiiCipher, hall: str, phone_hash: str, code: str) -> str:
    return cipher.keyed_hash(f"phone-code\0{hall}\0{phone_hash}\0{code}")


def send_code(tx: HallTx, *, cipher: PiiCipher, phone: str, purpose: str = "ticket", lang: str | None = None) -> None:
    """Make a fresh code for `phone` (a valid mainland mobile) in this hall and queue it to the phone; the
    message says what it is for (`messages.CODE_PURPOSES`), its second half in `lang` (ko, ja, ru) if given."""
    key = phone_key(cipher, phone)
    tx.session.execute(
        update(PhoneCode)
        .where(col(PhoneCode.hall_code) == tx.hall, col(PhoneCode.phone_hash) == key, col(PhoneCode.used).is_(False))
        .values(used=True)
    )
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    tx.session.add(
        PhoneCode(
            hall_code=tx.hall,
            phone_hash=key,
            code_hash=_code_hash(cipher, tx.hall, key, code),
            created_at=tx.now,
            expires_at=tx.now + CODE_TTL,
        )
    )
    hall = tx.config
    name, name_en = (hall.name, hall.name_en) if hall is not None else (tx.hall, "")
    text = messages.verify_code(
        name, code, int(CODE_TTL.total_seconds() // 60), hall_en=name_en, purpose=purpose, lang=lang
    )  # code masked for staff
    minutes = int(CODE_TTL.total_seconds() // 60)
    params = {"hall": name, "code": messages.secret(code), "minutes": minutes}
    enqueue(
        tx,
        kind="verify_code",
        ticket="verify",
        phone_enc=cipher.encrypt(phone, context="phone"),
        text=text,
        params=params,
    )


def use_code(tx: HallTx, *, cipher: PiiCipher, phone: str, code: str) -> bool:
    """Spend the phone's live code if `code` is it; a wrong try counts against the code (commit it)."""
    key = phone_key(cipher, phone)
    row = tx.session.execute(
        select(PhoneCode)
        .where(
            col(PhoneCode.hall_code) == tx.hall,
            col(PhoneCode.phone_hash) == key,
            col(PhoneCode.used).is_(False),
            col(PhoneCode.expires_at) > tx.now,
        )
        .order_by(col(PhoneCode.id).desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return False
    if hmac.compare_digest(row.code_hash, _code_hash(cipher, tx.hall, key, code.strip())):
        row.used = True
    else:
        row.attempts += 1
        row.used = row.attempts >= MAX_ATTEMPTS
        tx.session.add(row)
        return False
    tx.session.add(row)
    return True

"""Alibaba Cloud SMS, Tencent Cloud SMS and WeChat subscription messages through their official SDKs, each
against a loopback service that checks the request as the service documents it (cloud_services.py):
a call notice goes out exactly once, signed, with the registered template and its values; the outbox's
retries and dead letter apply unchanged; secret values stay out of what staff see."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from queue_server.config import NotifyConfig
from queue_server.crypto import PiiCipher
from queue_server.db import Database
from queue_server.notify import Dispatcher, enqueue, messages
from queue_server.notify.providers import make_provider
from queue_server.services.tx import hall_tx

from ..harness import TEST_CONFIG, fresh_database, runtime, serving
from .cloud_services import (
    KEY_ID,
    KEY_SECRET,
    SIGN_NAME,
    TENCENT_APP_ID,
    WECHAT_APPID,
    WECHAT_SECRET,
    CloudService,
    aliyun_check,
    tencent_check,
    wechat_check,
)
from .conftest import FAST, PHONE, all_status, rows, run

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"  # a mini program user's openid: WeChat's recipient
CHECKS = {"aliyun": aliyun_check, "tencent": tencent_check, "wechat": wechat_check}
TEMPLATES: dict[str, dict[str, Any]] = {
    "aliyun": {
        "called": {"code": "SMS_468210001", "params": {"number": "number", "window": "window"}},
        "appointment_booked": {"code": "SMS_468210002", "params": {"hall": "hall", "time": "time", "code": "code"}},
    },
    "tencent": {  # {1}, {2}: by position
        "called": {"code": "2105001", "params": {"1": "number", "2": "window"}},
        "appointment_booked": {"code": "2105002", "params": {"1": "hall", "2": "time", "3": "code"}},
    },
    "wechat": {
        "called": {
            "code": "kx7Pd0qG3Yb1tR9sQ2wE5uI8oP4aS6dF1gH3jK0lZ2",
            "params": {"character_string1": "number", "character_string2": "window"},
            "page": "pages/ticket/index",
        },
        "appointment_booked": {
            "code": "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv3Wx5Yz7Ab9",
            "params": {"thing1": "hall", "time2": "time", "character_string3": "code"},
        },
    },
}


def notify_config(provider: str, url: str, *, max_attempts: int = 5, kinds: tuple[str, ...] = ()) -> NotifyConfig:
    templates = {k: v for k, v in TEMPLATES[provider].items() if not kinds or k in kinds}
    extra: dict[str, Any] = {"sign_name": SIGN_NAME} if provider != "wechat" else {}
    if provider == "tencent":
        extra["sdk_app_id"] = TENCENT_APP_ID
    key_id, secret = (WECHAT_APPID, WECHAT_SECRET) if provider == "wechat" else (KEY_ID, KEY_SECRET)
    return NotifyConfig.model_validate(
        {"provider": provider, "url": url, "key_id": key_id, "secret": secret, "templates": templates, "timeout_s": 3}
        | extra
        | {"max_attempts": max_attempts}
    )


@pytest.fixture(params=["aliyun", "tencent", "wechat"])
def service(request: pytest.FixtureRequest) -> Iterator[tuple[str, CloudService]]:
    svc = CloudService(CHECKS[request.param]).start()
    yield request.param, svc
    svc.stop()


def recipient(provider: str) -> str:
    return OPENID if provider == "wechat" else PHONE


def add_called(db: Database, cipher: PiiCipher, provider: str, number: str = "A023", window: int = 3) -> None:
    with hall_tx(db, None, "t1") as tx:
        enqueue(
            tx,
            kind="called",
            ticket=number,
            phone_enc=cipher.encrypt(recipient(provider), context="phone"),
            text=messages.called(number, window),
            params={"number": number, "window": window},
        )


def sent_values(provider: str, req: Any) -> dict[str, Any]:
    """What the service got: recipient, template, its values, our message id."""
    if provider == "aliyun":
        q = dict(req.query)
        return {
            "to": q["PhoneNumbers"],
            "sign": q["SignName"],
            "template": q["TemplateCode"],
            "values": json.loads(q["TemplateParam"]),
            "id": q.get("OutId"),
        }
    body = req.json
    if provider == "tencent":
        return {
            "to": body["PhoneNumberSet"],
            "sign": body["SignName"],
            "app": body["SmsSdkAppId"],
            "template": body["TemplateId"],
            "values": body["TemplateParamSet"],
            "id": body.get("SessionContext"),
        }
    return {
        "to": body["touser"],
        "template": body["template_id"],
        "values": {k: v["value"] for k, v in body["data"].items()},
        "page": body.get("page"),
    }


def test_a_call_notice_goes_out_exactly_once_signed_with_its_template(
    db: Database, cipher: PiiCipher, service: tuple[str, CloudService]
) -> None:
    provider, svc = service
    add_called(db, cipher, provider)
    d = Dispatcher(db, cipher, notify_config(provider, svc.url), **FAST)
    asyncio.run(run(d, all_status(db, "sent", 1), linger=0.3))

    (row,) = rows(db)
    assert row.status == "sent" and row.attempts == 1
    (req,) = svc.sends()  # exactly once
    assert all(not r.errors for r in svc.requests), [r.errors for r in svc.requests]
    got = sent_values(provider, req)
    template = TEMPLATES[provider]["called"]
    assert got["template"] == template["code"]
    if provider == "aliyun":
        assert got == {
            "to": PHONE,
            "sign": SIGN_NAME,
            "template": template["code"],
            "values": {"number": "A023", "window": "3"},
            "id": row.msg_id,
        }
    elif provider == "tencent":
        assert got == {
            "to": ["+86" + PHONE],
            "sign": SIGN_NAME,
            "app": TENCENT_APP_ID,
            "template": template["code"],
            "values": ["A023", "3"],
            "id": row.msg_id,
        }
    else:
        assert got == {
            "to": OPENID,
            "template": template["code"],
            "values": {"character_string1": "A023", "character_string2": "3"},
            "page": "pages/ticket/index",
        }
        assert [r.path for r in svc.requests].count("/cgi-bin/token") == 1  # the access_token, fetched once


def test_refusals_are_retried_then_dead_lettered_as_before(
    db: Database, cipher: PiiCipher, service: tuple[str, CloudService]
) -> None:
    provider, svc = service
    svc.fail_first = 2  # the service refuses twice (flow control), then takes it
    add_called(db, cipher, provider)
    asyncio.run(run(Dispatcher(db, cipher, notify_config(provider, svc.url), **FAST), all_status(db, "sent")))
    (row,) = rows(db)
    assert row.attempts == 3 and row.status == "sent"
    sends = svc.sends()
    assert len(sends) == 3 and len({json.dumps(sent_values(provider, r), sort_keys=True) for r in sends}) == 1
    assert all(not r.errors for r in svc.requests)

    db_rows = rows(db)
    svc.fail_first = 10**6  # now it refuses for good: dead after max_attempts, the reason kept for staff
    add_called(db, cipher, provider, number="A024")
    d = Dispatcher(db, cipher, notify_config(provider, svc.url, max_attempts=3), **FAST)

    async def dead() -> bool:
        return any(r.status == "dead" for r in await asyncio.to_thread(rows, db))

    asyncio.run(run(d, dead, linger=0.3))
    (late,) = [r for r in rows(db) if r.id not in {x.id for x in db_rows}]
    assert late.status == "dead" and late.attempts == 3 and late.sent_at is None
    assert any(code in (late.last_error or "") for code in ("BUSINESS_LIMIT", "LimitExceeded", "45009"))
    assert len(svc.sends()) == 3 + 3
    assert PHONE not in (late.last_error or "")


def test_a_kind_without_a_template_is_dead_lettered_without_a_send(
    db: Database, cipher: PiiCipher, service: tuple[str, CloudService]
) -> None:
    provider, svc = service
    add_called(db, cipher, provider)
    cfg = notify_config(provider, svc.url, max_attempts=2, kinds=("appointment_booked",))
    asyncio.run(run(Dispatcher(db, cipher, cfg, **FAST), all_status(db, "dead"), linger=0.2))
    (row,) = rows(db)
    assert row.status == "dead" and row.last_error == "no template for 'called' messages in [notify.templates]"
    assert svc.sends() == []


def test_secret_values_reach_the_template_and_never_staff(
    db: Database, cipher: PiiCipher, service: tuple[str, CloudService]
) -> None:
    provider, svc = service
    slot = "2026-12-08 09:30"
    with hall_tx(db, None, "t1") as tx:
        enqueue(
            tx,
            kind="appointment_booked",
            ticket="K7Q2M9",
            phone_enc=cipher.encrypt(recipient(provider), context="phone"),
            text="…",
            params={"hall": "测试政务服务中心", "time": slot, "code": messages.secret("K7Q2M9")},
        )
    (row,) = rows(db)
    assert row.params is not None and "K7Q2M9" not in row.params and "******" in row.params  # as staff see it
    asyncio.run(run(Dispatcher(db, cipher, notify_config(provider, svc.url), **FAST), all_status(db, "sent")))
    (req,) = svc.sends()
    values = sent_values(provider, req)["values"]
    expected = {
        "aliyun": {"hall": "测试政务服务中心", "time": slot, "code": "K7Q2M9"},
        "tencent": ["测试政务服务中心", slot, "K7Q2M9"],
    }
    assert values == expected.get(
        provider, {"thing1": "测试政务服务中心", "time2": slot, "character_string3": "K7Q2M9"}
    )
    assert rows(db)[0].secret is None  # cleared once sent


def test_the_configuration_names_what_is_missing_or_wrong() -> None:
    with pytest.raises(ValidationError) as err:
        NotifyConfig.model_validate(
            {
                "provider": "tencent",
                "key_id": KEY_ID,
                "secret": KEY_SECRET,
                "templates": {"called": {"code": "1", "params": {"1": "numbr"}}, "calld": {"code": "2"}},
            }
        )
    text = str(err.value)
    assert "the tencent provider needs sign_name" in text and "the tencent provider needs sdk_app_id" in text
    assert "a called message has no 'numbr' (number, window)" in text
    assert "unknown message kind 'calld'" in text
    with pytest.raises(ValidationError, match="the wechat provider needs key_id"):
        NotifyConfig.model_validate({"provider": "wechat", "secret": "s", "templates": TEMPLATES["wechat"]})
    for provider in CHECKS:  # and a good one builds its SDK client, without showing the secret
        p = make_provider(notify_config(provider, "http://127.0.0.1:9"))
        assert KEY_SECRET not in repr(p) and WECHAT_SECRET not in repr(p)


def toml_template(kind: str, code: str) -> str:
    """A `[notify.templates.<kind>]` table whose variables are named like the message's values."""
    params = ", ".join(f'{p} = "{p}"' for p in messages.PARAMS[kind])
    return f'\n[notify.templates.{kind}]\ncode = "{code}"\nparams = {{ {params} }}\n'


def test_a_live_server_sends_its_call_notices_through_alibaba_cloud(backend: str, tmp_path: Path) -> None:
    svc = CloudService(aliyun_check).start()
    templates = toml_template("issued", "SMS_468210000") + toml_template("called", "SMS_468210001")
    notify = (
        f'[notify]\nprovider = "aliyun"\nurl = "{svc.url}"\nkey_id = "{KEY_ID}"\nsecret = "{KEY_SECRET}"\n'
        f'sign_name = "{SIGN_NAME}"\n{templates}'
    )
    text = TEST_CONFIG.read_text(encoding="utf-8").replace(
        "[server]\ndemo = true", f"[server]\ndemo = true\n\n{notify}", 1
    )
    cfg = tmp_path / "hall.toml"
    cfg.write_text(text, encoding="utf-8")
    url = fresh_database(backend, tmp_path, name="aliyun")
    kiosk = {"Authorization": "Bearer kiosk-t1-token-0123456789"}
    try:
        with (
            serving(runtime(url, tmp_path / "var", config=cfg)) as srv,
            httpx.Client(base_url=srv.url, timeout=30) as http,
        ):
            t = http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "phone": PHONE}, headers=kiosk).json()
            token = http.post("/api/v1/auth/token", data={"username": "clerk1", "password": "clerk1-pass"}).json()
            clerk = {"Authorization": f"Bearer {token['access_token']}"}
            assert http.post("/api/v1/halls/t1/windows/5/call-next", headers=clerk).status_code == 200
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and len(svc.sends()) < 2:
                time.sleep(0.05)
            time.sleep(0.3)  # and nothing more arrives
    finally:
        svc.stop()
    sent = [dict(r.query) for r in svc.sends()]
    assert all(not r.errors for r in svc.requests)
    called = [q for q in sent if q["TemplateCode"] == "SMS_468210001"]
    assert len(called) == 1 and len(sent) == 2  # the ticket's "issued" and one call notice
    assert json.loads(called[0]["TemplateParam"]) == {"number": t["number"], "window": "5"}
    assert called[0]["PhoneNumbers"] == PHONE and called[0]["SignName"] == SIGN_NAME

"""Prometheus metrics at /metrics: what a hall's day puts there, and who may read it (queue_server/metrics.py)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from websockets.sync.client import connect

from queue_server.settings import Settings, resolve

from ..harness import DISPLAY, KIOSK, Api, LiveServer, events_url, fresh_database, serving

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(http: httpx.Client, **headers: str) -> Samples:
    """Every sample of /metrics by (name, labels)."""
    r = http.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_morning_shows_in_the_metrics(api: Api, live: LiveServer) -> None:
    """Tickets issued and called by hall and queue, waiting counts, request latency by route template,
    websocket subscribers, writer batches, the notification outbox and device health."""
    before = scrape(api.http)
    ids = [api.take("A", phone="13800001111")["id"] for _ in range(3)]
    api.take("B")
    assert api.call_next(1).json()["id"] == ids[0]
    r = api.http.post("/api/v1/devices/health", json={"status": "paper_out"}, headers=api.auth(KIOSK))
    assert r.status_code == 200, r.text
    with connect(events_url(live, token=DISPLAY)) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
        after = scrape(api.http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("hall_tickets_issued_total", hall="t1", queue="A") == 3
    assert grew("hall_tickets_issued_total", hall="t1", queue="B") == 1
    assert grew("hall_tickets_called_total", hall="t1", queue="A") == 1
    assert value(after, "hall_tickets_waiting", hall="t1", queue="A") == 2
    assert value(after, "hall_tickets_waiting", hall="t1", queue="B") == 1
    assert value(after, "hall_tickets_waiting", hall="t1", queue="C") == 0  # every configured queue is there
    take = {"method": "POST", "route": "/api/v1/halls/{hall}/tickets", "status": "201"}
    assert grew("hall_http_request_duration_seconds_count", **take) == 4
    assert grew("hall_http_request_duration_seconds_sum", **take) > 0
    assert value(after, "hall_websocket_subscribers", hall="t1") >= 1
    assert grew("hall_writer_batch_size_count") >= 2  # the tickets may share batches; the call has its own
    assert grew("hall_writer_batch_size_sum") >= 6  # 4 tickets, 1 call, 1 health report
    assert grew("hall_writer_batch_seconds_count") == grew("hall_writer_batch_size_count")
    assert ("hall_notifications", frozenset({("hall", "t1"), ("status", "pending")})) in after
    assert ("hall_notifications", frozenset({("hall", "t1"), ("status", "dead")})) in after
    kiosk = {"hall": "t1", "device": "kiosk-t1", "role": "kiosk"}
    assert value(after, "hall_device_up", **kiosk) == 0
    assert value(after, "hall_device_status", hall="t1", device="kiosk-t1", status="paper_out") == 1
    # no path a caller typed becomes a label: the unknown path is one value, tokens never appear
    api.http.get("/api/v1/track/not-a-real-token-123")
    api.http.get("/no/such/path/13800001111")
    text = api.http.get("/metrics").text
    assert "not-a-real-token" not in text
    assert "13800001111" not in text
    assert 'route="/api/v1/track/{track_token}"' in text
    assert 'route="(unmatched)"' in text


def test_subscribers_gauge_falls_when_a_board_leaves(api: Api, live: LiveServer) -> None:
    """The websocket gauge counts boards connected now."""
    base = value(scrape(api.http), "hall_websocket_subscribers", hall="t1")
    with connect(events_url(live, token=DISPLAY)) as ws:
        ws.recv(timeout=10)
        assert value(scrape(api.http), "hall_websocket_subscribers", hall="t1") == base + 1
    for _ in range(100):  # the server notices the close a moment later
        if value(scrape(api.http), "hall_websocket_subscribers", hall="t1") == base:
            break
    assert value(scrape(api.http), "hall_websocket_subscribers", hall="t1") == base


def _config(tmp: Path, server: str) -> Path:
    path = tmp / "hall.toml"
    path.write_text(
        f'[server]\ndemo = false\n{server}\n\n[[halls]]\ncode = "h1"\nname = "大厅"\n\n'
        '  [[halls.queues]]\n  code = "A"\n  name = "综合"\n  name_en = "General"\n\n'
        '  [[halls.windows]]\n  number = 1\n  queues = ["A"]\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("with_token", [False, True])
def test_outside_demo_metrics_are_off_or_need_the_token(tmp_path: Path, with_token: bool) -> None:
    """`demo = false`: no /metrics without `[server] metrics_token`; with it, only the bearer of the token."""
    token = secrets.token_urlsafe(32)
    server = f'metrics_token = "{token}"' if with_token else ""
    key = SecretStr(secrets.token_urlsafe(48))
    url = fresh_database("sqlite", tmp_path)
    rt = resolve(Settings(config=_config(tmp_path, server), database_url=url, secret_key=key, var_dir=tmp_path / "v"))
    with serving(rt) as srv, httpx.Client(base_url=srv.url) as h:
        if not with_token:
            assert h.get("/metrics").status_code == 404
            return
        assert h.get("/metrics").status_code == 401
        assert h.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        samples = scrape(h, Authorization=f"Bearer {token}")
        assert value(samples, "hall_tickets_waiting", hall="h1", queue="A") == 0


def test_a_weak_metrics_token_is_refused_outside_demo(tmp_path: Path) -> None:
    """The token guards the hall's figures: outside demo mode it must be long and random, like a device's."""
    from queue_server.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"hall.toml:3: server.metrics_token"):
        load_config(_config(tmp_path, 'metrics_token = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"'))


def test_batches_run_ahead_of_the_lock_are_counted(api: Api, live: LiveServer, backend: str) -> None:
    """The writer's batches begun ahead of the hall lock's answer, and those rolled back, are its own counts."""
    before, writer_before = scrape(api.http), live.ctx.writer.ahead
    for _ in range(4):  # one at a time: each after the last committed, the hall's memo fresh (PostgreSQL)
        api.take("A")
    after, writer_after = scrape(api.http), live.ctx.writer.ahead
    begun = value(after, "hall_writer_ahead_batches_total") - value(before, "hall_writer_ahead_batches_total")
    rolled_back = value(after, "hall_writer_ahead_rolled_back_total") - value(
        before, "hall_writer_ahead_rolled_back_total"
    )
    assert (begun, rolled_back) == (writer_after[0] - writer_before[0], writer_after[1] - writer_before[1])
    assert begun >= (3 if backend == "postgresql" else 0)  # SQLite's writer never runs ahead

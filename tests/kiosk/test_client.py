"""The kiosk's HTTP client against a live server: idempotent retries, an unreachable server, refusals."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from kiosk.client import KioskClient, Refused, Unreachable
from tests.harness import KIOSK, Api, LiveServer, free_port, fresh_database, runtime, serving

CLOSED_HALL = """
[server]
demo = true

[[halls]]
code = "shut"
name = "休息中心"
name_en = "Closed Centre"
open = ["daily 09:00-17:00"]
holidays = [{holidays}]

  [[halls.queues]]
  code = "A"
  name = "综合"
  name_en = "General"

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[devices]]
name = "kiosk-shut"
role = "kiosk"
hall = "shut"
token = "kiosk-shut-token-0123456789"
"""


def tickets(api: Api) -> list[dict[str, object]]:
    r = api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text
    data: list[dict[str, object]] = r.json()
    return data


class LoseFirstAnswer(httpx.BaseTransport):
    """Delivers the first request to the server, then drops its answer as a client-side timeout would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        response = self.inner.handle_request(request)
        if self.sent == 1:
            response.read()  # the server has committed the ticket…
            response.close()
            raise httpx.ReadTimeout("answer lost", request=request)  # …but the kiosk never hears of it
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_lost_answer_is_retried_with_the_same_key_and_returns_the_same_ticket(api: Api) -> None:
    transport = LoseFirstAnswer()
    retries: list[int] = []
    client = KioskClient(api.server.url, "t1", KIOSK, transport=transport, backoff=0.01)
    try:
        ticket = client.take_number("A", "tap-1", on_retry=retries.append)
    finally:
        client.close()
    assert transport.sent == 2 and retries == [1]
    assert ticket["number"] == "A001"
    assert [t["number"] for t in tickets(api)] == ["A001"]  # one ticket, not two


def test_a_new_tap_is_a_new_ticket_and_the_same_tap_is_not(api: Api) -> None:
    client = KioskClient(api.server.url, "t1", KIOSK)
    try:
        a = client.take_number("A", "tap-a")
        again = client.take_number("A", "tap-a")
        b = client.take_number("A", "tap-b")
    finally:
        client.close()
    assert a["id"] == again["id"] and b["number"] == "A002"
    assert len(tickets(api)) == 2


def forward(conn: socket.socket, target: tuple[str, int]) -> None:
    """Copy bytes both ways between `conn` and a new connection to `target`."""
    upstream = socket.create_connection(target)

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=pump, args=(conn, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, conn), daemon=True).start()


@pytest.fixture
def late_proxy(api: Api) -> Iterator[tuple[str, threading.Event]]:
    """A port where nothing listens until the event is set; then it forwards to the live server."""
    port = free_port()
    go = threading.Event()
    stop = threading.Event()
    target = ("127.0.0.1", api.server.port)

    def serve() -> None:
        go.wait()
        with socket.create_server(("127.0.0.1", port)) as srv:
            srv.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except TimeoutError:
                    continue
                forward(conn, target)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", go
    go.set()
    stop.set()
    thread.join(5)


def test_server_unreachable_then_back_the_retry_succeeds(api: Api, late_proxy: tuple[str, threading.Event]) -> None:
    url, go = late_proxy
    retries: list[int] = []

    def on_retry(attempt: int) -> None:
        retries.append(attempt)
        if attempt == 2:
            go.set()  # the network comes back during the second pause
            time.sleep(0.2)

    client = KioskClient(url, "t1", KIOSK, backoff=0.05, attempts=10)
    try:
        ticket = client.take_number("B", "tap-net", on_retry=on_retry)
    finally:
        client.close()
    assert retries[:2] == [1, 2]
    assert ticket["number"] == "B001"
    assert [t["number"] for t in tickets(api)] == ["B001"]


def test_unreachable_after_every_attempt() -> None:
    client = KioskClient(f"http://127.0.0.1:{free_port()}", "t1", KIOSK, attempts=3, backoff=0.01)
    retries: list[int] = []
    try:
        with pytest.raises(Unreachable):
            client.take_number("A", "tap-x", on_retry=retries.append)
    finally:
        client.close()
    assert retries == [1, 2]


def test_queues_and_health(api: Api) -> None:
    api.take("A")
    client = KioskClient(api.server.url, "t1", KIOSK)
    try:
        qs = client.queues()
        assert [q["code"] for q in qs] == ["A", "B", "C"]
        assert qs[0]["waiting"] == 1 and qs[0]["name_en"] == "Market access"
        hall = client.hall_info()
        assert (hall["name"], hall["name_en"]) == ("测试政务服务中心", "Test Service Centre")
        client.report_health("paper_out", "simulated printer")
    finally:
        client.close()


def test_unknown_queue_is_refused_with_the_servers_detail(api: Api) -> None:
    client = KioskClient(api.server.url, "t1", KIOSK)
    try:
        with pytest.raises(Refused) as e:
            client.take_number("Z", "tap-z")
    finally:
        client.close()
    assert e.value.status == 404 and e.value.sentence


@pytest.fixture(scope="module")
def closed_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp(f"kiosk-closed-{backend}")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    holidays = ", ".join(f'"{today + timedelta(days=d)}"' for d in (-1, 0, 1))
    cfg = tmp / "hall.toml"
    cfg.write_text(CLOSED_HALL.replace("{holidays}", holidays), encoding="utf-8")
    with serving(runtime(fresh_database(backend, tmp, name="kclosed"), tmp / "var", config=cfg)) as srv:
        yield srv


def test_closed_hall_gives_the_servers_own_sentence(closed_server: LiveServer) -> None:
    client = KioskClient(closed_server.url, "shut", "kiosk-shut-token-0123456789")
    try:
        with pytest.raises(Refused) as e:
            client.take_number("A", "tap-closed")
    finally:
        client.close()
    assert e.value.status == 409
    assert "opens again" in e.value.sentence and " / " in e.value.sentence


def test_a_seniors_id_number_gets_the_special_lane_from_the_server(api: Api) -> None:
    from peripherals.idcard import gb11643_check_char

    senior = "11010119450101123"
    senior += gb11643_check_char(senior)
    young = "11010120000101123"
    young += gb11643_check_char(young)
    client = KioskClient(api.server.url, "t1", KIOSK)
    try:
        old = client.take_number("A", "tap-senior", id_number=senior)
        other = client.take_number("A", "tap-young", id_number=young)
    finally:
        client.close()
    assert old["lane"] == "special" and other["lane"] == "normal"


def test_one_error_hierarchy_and_the_words_a_citizen_reads() -> None:
    from kiosk.client import Final, KioskClientError, Transient, citizen_words
    from kiosk.strings import t

    assert issubclass(Final, KioskClientError) and issubclass(Transient, KioskClientError)
    assert issubclass(Final, Refused) and issubclass(Transient, Unreachable)
    assert citizen_words(Final(422, "材料不全 / Missing documents"), "zh") == "材料不全 / Missing documents"
    assert citizen_words(Final(413, "HTTP 413"), "en") == t("too_large", "en")  # a proxy's bare page
    assert citizen_words(Transient("HTTP 503"), "zh") == t("connection_down", "zh")
    assert citizen_words(Unreachable("ConnectError"), "en") == t("connection_down", "en")
    assert "服务器" not in citizen_words(Refused(500, "HTTP 500"), "zh")

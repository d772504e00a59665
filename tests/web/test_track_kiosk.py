"""The QR code on the paper ticket is exactly the answer's track_url: the Kivy kiosk (under Xvfb, against the
live server with a `public_url`) takes a number and prints it on a simulated network printer (ESC/POS over TCP),
whose QR payload is read back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from peripherals.printer.simulator import SimulatedPrinter, TcpSimulator
from queue_server.models import Ticket

from ..harness import TEST_CONFIG, Api, LiveServer, fresh_database, runtime, serving
from ..kiosk.test_kivy_kiosk import kiosk_tools, run_kiosk  # noqa: F401  (the fixture)

PUBLIC = "https://hall.example.gov.cn/q"


@pytest.fixture
def public_api(tmp_path: Path) -> Iterator[Api]:
    """A live server whose hall t1 has a `public_url` (the test hall's configuration plus that key)."""
    text = TEST_CONFIG.read_text().replace('code = "t1"\n', f'code = "t1"\npublic_url = "{PUBLIC}"\n', 1)
    config = tmp_path / "hall.toml"
    config.write_text(text)
    rt = runtime(fresh_database("sqlite", tmp_path), tmp_path / "var", config)
    with serving(rt) as srv:
        api = Api(srv)
        yield api
        api.close()


def tokens(srv: LiveServer) -> list[str]:
    """The tracking tokens of the tickets in the database."""
    with srv.ctx.db.read() as s:
        return list(s.execute(select(col(Ticket.track_token))).scalars())


@pytest.mark.usefixtures("kiosk_tools")
def test_the_printed_qr_is_the_answers_track_url(public_api: Api, tmp_path: Path) -> None:
    printer = SimulatedPrinter()
    with TcpSimulator(printer) as sim:
        script = "wait:home,take,wait:domain,domain:A,confirm,wait:ticket"
        log = run_kiosk(public_api, tmp_path, script, "--printer", sim.url)
        assert "kiosk screen: ticket A001 shown, print printed" in log
        (doc,) = printer.wait_for_documents(1)
    (token,) = tokens(public_api.server)
    assert doc.qr_payloads == [f"{PUBLIC}/track/{token}"]
    assert token not in log  # the token is the holder's: never in the kiosk's log

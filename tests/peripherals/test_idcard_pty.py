"""End to end over a pseudo-terminal: the SAM simulator serves real frames, `open_id_reader` opens the slave."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from peripherals import open_id_reader
from peripherals.errors import CardError, DeviceTimeout, DeviceUnavailable
from peripherals.idcard import CardRemoved, demo_card, open_sam_serial
from peripherals.idcard.errors import SamCardStatusError, SamStatusError
from peripherals.idcard.sam_protocol import SamCommand
from peripherals.idcard.sam_simulator import PtySamSimulator, SamSimulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pty() -> Iterator[PtySamSimulator]:
    """A simulator holding the demo card on a fresh pseudo-terminal."""
    with PtySamSimulator(SamSimulator(demo_card())) as served:
        yield served


def test_card_goes_from_the_simulator_to_an_idcard(pty: PtySamSimulator) -> None:
    assert pty.url == f"sam+serial://{pty.slave_path}" and pty.slave_path.startswith("/dev/")
    with open_id_reader(f"sam+serial://{pty.slave_path}?baudrate=115200") as reader:
        card = reader.read(timeout=3)
        assert card == demo_card()
        assert reader.health().status == "ok"
    assert pty.simulator.requests[:3] == [SamCommand.FIND_CARD, SamCommand.SELECT_CARD, SamCommand.READ_BASE_INFO]


def test_pyserial_spy_url_logs_the_real_frames(pty: PtySamSimulator, tmp_path: Path) -> None:
    log = tmp_path / "spy.txt"
    with open_id_reader(f"sam+serial://spy://{pty.slave_path}?file={log}&color&baudrate=115200") as reader:
        assert reader.read(timeout=3) == demo_card()
    text = log.read_text()
    assert "TX   0000  AA AA AA 96 69 00 03 20  01 22" in text  # find card, as pyserial's spy saw it go out
    assert "\x1b[" in text  # the value-less `color` option reached pyserial


def test_a_card_with_no_end_date_and_another_nation(pty: PtySamSimulator) -> None:
    card = dataclasses.replace(demo_card(), name="阿依古丽·买买提", sex="女", nation="维吾尔", valid_to=None)
    pty.simulator.card = card
    with open_id_reader(pty.url) as reader:
        got = reader.read(timeout=3)
    assert got == card and got is not None and got.valid_to is None and got.valid_from == date(2015, 6, 1)


def test_no_card_gives_none_after_the_timeout_without_polling_faster_than_300ms(pty: PtySamSimulator) -> None:
    pty.simulator.card = None
    with open_id_reader(pty.url) as reader:
        started = time.monotonic()
        assert reader.read(timeout=1.5) is None
        elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 2.0
    times = pty.simulator.find_card_times
    assert 4 <= len(times) <= 6, times  # 0, 0.3, …, 1.5 s
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.28, gaps


def test_short_reads_in_a_loop_keep_the_poll_spacing(pty: PtySamSimulator) -> None:
    pty.simulator.card = None
    with open_id_reader(pty.url) as reader:
        started = time.monotonic()
        while time.monotonic() - started < 1.2:
            assert reader.read(timeout=0.05) is None
    times = pty.simulator.find_card_times
    assert len(times) <= 5, times
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.28


def test_removal_mid_read_is_a_card_error(pty: PtySamSimulator) -> None:
    pty.simulator.remove_during_read = True
    with open_id_reader(pty.url) as reader:
        with pytest.raises(CardRemoved, match="card removed") as info:
            reader.read(timeout=3)
        assert isinstance(info.value, CardError)
        assert reader.read(timeout=0.4) is None  # and the card is gone
    assert pty.simulator.requests[:4] == [
        SamCommand.FIND_CARD,
        SamCommand.SELECT_CARD,
        SamCommand.READ_BASE_INFO,
        SamCommand.FIND_CARD,
    ]


def test_failure_statuses_over_the_wire(pty: PtySamSimulator) -> None:
    pty.simulator.failures = {SamCommand.SELECT_CARD: 0x31}
    with open_id_reader(pty.url) as reader:
        with pytest.raises(SamCardStatusError, match="0x31 after select_card: the card failed to authenticate"):
            reader.read(timeout=3)
        pty.simulator.failures = {SamCommand.FIND_CARD: 0x66}
        with pytest.raises(SamStatusError, match="not authorised"):
            reader.read(timeout=3)


def test_silent_reader_is_a_timeout_and_offline(pty: PtySamSimulator) -> None:
    pty.simulator.mute = True
    reader = open_sam_serial(pty.slave_path, answer_timeout=0.3)
    with pytest.raises(DeviceTimeout, match="no answer to find_card"):
        reader.read(timeout=3)
    assert reader.health().status == "offline"
    reader.close()


def test_vanished_device_is_reported_unplugged() -> None:
    served = PtySamSimulator(SamSimulator(demo_card())).start()
    reader = open_sam_serial(served.slave_path, answer_timeout=0.3)
    assert reader.health().status == "ok"
    served.stop()
    health = reader.health()
    assert health.status == "unplugged", health
    with pytest.raises(DeviceUnavailable):
        reader.read(timeout=1)
    reader.close()


def test_cli_prints_the_slave_path_and_serves_the_demo_card() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "peripherals.idcard.sam_simulator", "--pty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert process.stdout is not None
        path = process.stdout.readline().strip()
        assert path.startswith("/dev/")
        with open_id_reader(f"sam+serial://{path}") as reader:
            assert reader.read(timeout=3) == demo_card()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=5)
    assert process.returncode == 0
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr

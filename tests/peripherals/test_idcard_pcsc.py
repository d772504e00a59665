"""PC/SC through a real pcscd: vsmartcard's vpcd driver and our virtual card; pyscard reads its UID.

The `pcscd` fixture uses a pcscd that is already running (it must then show the vpcd readers), or starts
`pcscd --foreground` with a reader configuration holding only vpcd (as root) and stops it afterwards. In CI
(`CI=true`) a missing pcscd or vpcd fails the tests; elsewhere they are skipped with the reason.

pcscd's socket and vpcd's reader slot are one per machine: test runs in parallel (two developers, or
`pytest -n`) would insert their cards into each other's reader, so the module takes turns with them through a
file lock in the temporary directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from peripherals import open_id_reader
from peripherals.errors import CardError, DeviceUnavailable
from peripherals.idcard import CardRemoved, CardUid
from peripherals.idcard.vpcd_card import GET_UID, VPCD_PORT, VirtualCard, answer, encode_message

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
READER = "Virtual PCD 00 00"
UID = bytes.fromhex("04A1B2C3D4E5F6")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
LOCK = Path(tempfile.gettempdir()) / "one-window-hall-pcsc-tests.lock"


def test_virtual_card_answers() -> None:
    assert encode_message(b"\x04") == b"\x00\x01\x04"
    assert answer(b"\x04", uid=UID, atr=b"\x3b\x00") == b"\x3b\x00"
    for control in (b"\x00", b"\x01", b"\x02"):
        assert answer(control, uid=UID) is None
    assert answer(GET_UID, uid=UID) == UID + b"\x90\x00"
    assert answer(GET_UID, uid=None) == b"\x6a\x81"
    assert answer(bytes.fromhex("FFCA010000"), uid=UID) == b"\x6a\x81"
    assert answer(bytes.fromhex("00A4040000"), uid=UID) == b"\x6d\x00"


def _unavailable(reason: str) -> None:
    if CI:
        pytest.fail(f"{reason}; PC/SC tests are required in CI")
    pytest.skip(reason)


def _pcscd_running() -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def _reader_names() -> list[str]:
    from peripherals.idcard.pcsc import list_reader_names

    try:
        return list_reader_names()
    except DeviceUnavailable:
        return []


def _vpcd_ports_free() -> bool:
    """Whether vpcd could bind its ports now (as it does: every interface, SO_REUSEADDR)."""
    for port in (VPCD_PORT, VPCD_PORT + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True


@contextlib.contextmanager
def _machine_lock(timeout: float = 240.0) -> Iterator[None]:
    """Take turns with other test runs on this machine: there is one pcscd and one virtual reader slot."""
    with LOCK.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test run kept {LOCK} (the PC/SC tests' turn) for {timeout:.0f} s")
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Pcscd:
    """The pcscd the tests use; `owned` when the tests started it (and may restart it)."""

    def __init__(self, exe: str, confdir: Path, log: Path) -> None:
        self.exe, self.confdir, self.log = exe, confdir, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def owned(self) -> bool:
        return self.process is not None

    def start(self) -> None:
        # vpcd's ports lie in Linux's ephemeral range: another program's outgoing connection may hold one
        # for a while, and vpcd then fails with "Address already in use". Wait for it rather than fail.
        deadline = time.monotonic() + 75
        while not _vpcd_ports_free():
            if time.monotonic() > deadline:
                pytest.fail(f"TCP ports {VPCD_PORT} and {VPCD_PORT + 1} (vpcd) stay in use")
            time.sleep(0.5)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.exe, "--foreground", "--config", str(self.confdir)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while READER not in _reader_names():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"pcscd did not show {READER!r}; its log:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while PCSCD_SOCKET.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """A pcscd showing the vpcd readers, for the whole module."""
    exe = shutil.which("pcscd") or next((p for p in ("/usr/sbin/pcscd",) if os.path.exists(p)), None)
    if exe is None:
        _unavailable("pcscd is not installed (Debian package pcscd)")
    if not VPCD_DRIVER.exists():
        _unavailable(f"{VPCD_DRIVER} is missing (Debian package vsmartcard-vpcd)")
    assert exe is not None
    tmp = tmp_path_factory.mktemp("pcscd")
    confdir = tmp / "reader.conf.d"
    confdir.mkdir()
    (confdir / "vpcd").write_text(
        f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{VPCD_PORT:04X}\n'
        f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{VPCD_PORT:04X}\n"
    )
    daemon = Pcscd(exe, confdir, tmp / "pcscd.log")
    with _machine_lock():
        if _pcscd_running():
            if READER not in _reader_names():
                pytest.fail(f"a pcscd is already running without the vpcd reader {READER!r}: {_reader_names()}")
            yield daemon
            return
        if os.geteuid() != 0:
            _unavailable("pcscd is not running, and starting it needs root")
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()
            assert not _pcscd_running(), "pcscd still answering after the tests stopped it"


@pytest.fixture
def card(pcscd: Pcscd) -> Iterator[VirtualCard]:
    """The virtual card with UID, inserted into Virtual PCD 00 00."""
    inserted = VirtualCard(UID).insert()
    yield inserted
    inserted.remove()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_reads_the_uid_through_pcscd(card: VirtualCard) -> None:
    with open_id_reader(f"pcsc://?reader={READER}") as reader:
        assert reader.read(timeout=10) == CardUid(uid=UID, reader=READER)
        assert reader.health().status == "ok"
    assert card.apdus[-1] == GET_UID


def test_removal_is_noticed(card: VirtualCard) -> None:
    from peripherals.idcard.pcsc import PcscReader

    events: list[str] = []
    with PcscReader(READER) as reader:
        reader.subscribe(events.append)
        assert reader.read(timeout=10) == CardUid(UID, READER)
        assert reader.card_present
        card.remove()
        assert reader.wait_removed(timeout=5)
        assert not reader.card_present
        assert wait_until(lambda: "removed" in events)
        started = time.monotonic()
        assert reader.read(timeout=0.6) is None
        assert time.monotonic() - started >= 0.6
        card.insert()  # presented again: noticed and read again
        assert reader.read(timeout=10) == CardUid(UID, READER)
        assert wait_until(lambda: events.count("inserted") >= 1)


def test_card_pulled_away_during_the_read(pcscd: Pcscd) -> None:
    with VirtualCard(UID, remove_on_apdu=True) as pulled, open_id_reader(f"pcsc://?reader={READER}") as reader:
        with pytest.raises(CardRemoved, match="card removed") as info:
            reader.read(timeout=10)
        assert isinstance(info.value, CardError)
        assert not pulled.inserted


def test_card_without_a_uid(pcscd: Pcscd) -> None:
    with (
        VirtualCard(None),
        open_id_reader(f"pcsc://?reader={READER}") as reader,
        pytest.raises(CardError, match=r"GET UID answered 6A 81 \(function not supported\)"),
    ):
        reader.read(timeout=10)


def test_reader_prefix_and_unknown_reader(pcscd: Pcscd) -> None:
    with open_id_reader("pcsc://?reader=Virtual%20PCD%2000%2000") as reader:
        assert "Virtual PCD 00 00" in repr(reader)
    with pytest.raises(DeviceUnavailable, match="no single PC/SC reader named 'No Such Reader'"):
        open_id_reader("pcsc://?reader=No Such Reader")
    with pytest.raises(DeviceUnavailable, match="no single PC/SC reader named 'Virtual PCD'"):
        open_id_reader("pcsc://?reader=Virtual PCD")  # two readers match


def test_health_unplugged_when_the_reader_disappears(pcscd: Pcscd) -> None:
    from peripherals.idcard.pcsc import PcscReader, list_reader_names

    present = [True]

    def listing() -> list[str]:  # pcscd's list, minus our reader once "unplugged"
        return [name for name in list_reader_names() if present[0] or name != READER]

    with PcscReader(READER, list_readers=listing) as reader:
        assert reader.health().status == "ok"
        present[0] = False
        health = reader.health()
        assert health.status == "unplugged" and READER in health.detail


def test_pcscd_restart_offline_then_recovered(pcscd: Pcscd) -> None:
    if not pcscd.owned:
        pytest.skip("pcscd was started outside the tests; it is not restarted here")
    reader = open_id_reader(f"pcsc://?reader={READER}")
    try:
        pcscd.stop()
        health = reader.health()
        assert health.status == "offline" and "pcscd" in health.detail
        with pytest.raises(DeviceUnavailable, match="pcscd"):
            reader.read(timeout=1)
        pcscd.start()
        assert reader.health().status == "ok"
        with VirtualCard(UID):
            assert reader.read(timeout=10) == CardUid(UID, READER)  # pyscard's dead monitor was replaced
    finally:
        reader.close()
        if not pcscd.owned:
            pcscd.start()

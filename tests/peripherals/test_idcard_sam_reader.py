"""SamReader over in-process ports: answers that are garbled, short or missing; statuses; URLs; sim://."""

from __future__ import annotations

import threading
import time

import pytest

from peripherals.errors import CardError, DeviceTimeout, DeviceUnavailable, PeripheralError, ProtocolError
from peripherals.idcard import CardRemoved, IdReader, SamReader, demo_card, open_id_reader
from peripherals.idcard.errors import FrameChecksumError, SamCardStatusError, SamStatusError
from peripherals.idcard.sam_protocol import SamCommand, encode_response
from peripherals.idcard.sam_simulator import SamSimulator, SimulatedSamPort


class ScriptedPort:
    """A port that answers every write with the next scripted bytes (and records what was written)."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.written: list[bytes] = []
        self.timeout: float | None = None
        self._pending = b""

    def write(self, data: bytes, /) -> int:
        self.written.append(bytes(data))
        self._pending = self.answers.pop(0) if self.answers else b""
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        if not self._pending:
            time.sleep(min(self.timeout or 0.0, 0.05))
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def reset_input_buffer(self) -> None:
        pass

    def close(self) -> None:
        pass


def scripted(*answers: bytes) -> SamReader:
    return SamReader(ScriptedPort(*answers), answer_timeout=0.3)


FOUND = encode_response(0x9F, bytes(4))
SELECTED = encode_response(0x90, bytes(8))


@pytest.mark.parametrize(
    ("answer", "error", "match"),
    [
        (b"", DeviceTimeout, "no answer to find_card"),
        (bytes.fromhex("AA AA AA"), ProtocolError, "short frame .* 3 of 7 bytes"),
        (FOUND[:-3], ProtocolError, "short frame .* 5 of 8 bytes"),
        (bytes.fromhex("AA AA AA 96 00 00 08") + FOUND[7:], ProtocolError, "bad frame header"),
        (FOUND[:-1] + b"\x00", FrameChecksumError, "bad checksum"),
        (bytes.fromhex("AA AA AA 96 69 00 00"), ProtocolError, "implausible frame length 0"),
        (encode_response(0x90), ProtocolError, "unexpected status 0x90 after find_card"),
        (encode_response(0x60), SamStatusError, "self-test"),
        (encode_response(0x10), ProtocolError, "bad checksum"),
    ],
)
def test_bad_answers_to_find_card(answer: bytes, error: type[Exception], match: str) -> None:
    reader = scripted(answer)
    with pytest.raises(error, match=match):
        reader.read(timeout=0)
    assert reader._port.written == [bytes.fromhex("AA AA AA 96 69 00 03 20 01 22")]  # type: ignore[attr-defined]


def test_the_read_sequence_sends_exact_frames() -> None:
    from peripherals.idcard.sam_text import encode_base_info

    reader = scripted(FOUND, SELECTED, encode_response(0x90, encode_base_info(demo_card())))
    assert reader.read(timeout=1) == demo_card()
    assert reader._port.written == [  # type: ignore[attr-defined]
        bytes.fromhex("AA AA AA 96 69 00 03 20 01 22"),
        bytes.fromhex("AA AA AA 96 69 00 03 20 02 21"),
        bytes.fromhex("AA AA AA 96 69 00 03 30 01 32"),
    ]


def test_read_fails_on_a_garbled_base_information() -> None:
    reader = scripted(FOUND, SELECTED, encode_response(0x90, bytes.fromhex("01 00 04 00") + bytes(10)))
    with pytest.raises(ProtocolError, match="base information of 14 bytes"):
        reader.read(timeout=1)


def sim(simulator: SamSimulator, answer_timeout: float = 0.5) -> SamReader:
    return SamReader(SimulatedSamPort(simulator), answer_timeout=answer_timeout)


def test_simulated_reader_reads_the_card_and_reports_health() -> None:
    reader = sim(SamSimulator(demo_card()))
    assert reader.read(timeout=1) == demo_card()
    assert reader.health().status == "ok"
    reader.close()
    assert reader.health().status == "offline"
    with pytest.raises(DeviceUnavailable, match="closed"):
        reader.read(timeout=1)
    reader.close()  # idempotent


def test_mute_reader_times_out_and_is_offline() -> None:
    reader = sim(SamSimulator(demo_card(), mute=True), answer_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DeviceTimeout, match="no answer"):
        reader.read(timeout=5)
    assert time.monotonic() - started < 1.0
    assert reader.health() == reader.health() and reader.health().status == "offline"


@pytest.mark.parametrize("status", [0x31, 0x32, 0x33, 0x40, 0x47, 0x91])
def test_card_failures_after_the_card_was_found_are_card_errors(status: int) -> None:
    reader = sim(SamSimulator(demo_card(), failures={SamCommand.READ_BASE_INFO: status}))
    with pytest.raises(SamCardStatusError) as info:
        reader.read(timeout=1)
    assert info.value.status == status and isinstance(info.value, CardError)
    assert not isinstance(info.value, CardRemoved)


def test_a_read_failure_with_the_card_still_there_is_not_a_removal() -> None:
    simulator = SamSimulator(demo_card(), failures={SamCommand.READ_BASE_INFO: 0x41})
    with pytest.raises(SamCardStatusError, match="reading the card failed"):
        sim(simulator).read(timeout=1)
    assert simulator.requests[-1] is SamCommand.FIND_CARD  # it looked again, and the card was there


def test_removal_mid_read_in_process() -> None:
    simulator = SamSimulator(demo_card(), remove_during_read=True)
    with pytest.raises(CardRemoved, match="card removed"):
        sim(simulator).read(timeout=1)


def test_health_reports_a_failing_sam() -> None:
    health = sim(SamSimulator(None, failures={SamCommand.SAM_STATUS: 0x60})).health()
    assert health.status == "error" and "self-test" in health.detail


def test_close_interrupts_a_waiting_read() -> None:
    reader = sim(SamSimulator(None))
    outcome: list[object] = []

    def wait() -> None:
        try:
            outcome.append(reader.read(timeout=30))
        except PeripheralError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.5)
    reader.close()
    thread.join(timeout=3)
    assert not thread.is_alive()
    assert isinstance(outcome[0], DeviceUnavailable)


def test_card_presented_later_is_read() -> None:
    simulator = SamSimulator(None)
    reader = sim(simulator)
    timer = threading.Timer(0.7, lambda: setattr(simulator, "card", demo_card()))
    timer.start()
    assert reader.read(timeout=3) == demo_card()
    assert simulator.count(SamCommand.FIND_CARD) >= 3


def test_sim_urls() -> None:
    with open_id_reader("sim://") as reader:
        assert isinstance(reader, IdReader)
        assert reader.read(timeout=1) == demo_card()
    reader = open_id_reader("sim://?card=none")
    started = time.monotonic()
    assert reader.read(timeout=0.5) is None
    assert time.monotonic() - started >= 0.5
    reader.close()


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://x", "unknown ID-card reader URL scheme 'ftp'"),
        ("/dev/ttyUSB1", "not an ID-card reader URL"),
        ("sam+serial://", "names no port"),
        ("sam+serial:///dev/does-not-exist-4711", "cannot open SAM reader port '/dev/does-not-exist-4711'"),
        ("sam+serial:///dev/ttyUSB1?baudrate=fast", "bad baudrate 'fast'"),
        ("sam+serial://nosuchproto://x", "cannot open SAM reader port"),
        ("sam+serial://socket://127.0.0.1:1", "cannot open SAM reader port"),
        ("sim://?card=alien", "card must be one of .*'foreign2023'"),
        ("sim://?colour=red", "unknown sim:// parameter"),
        ("sim://host", "only query parameters"),
        ("pcsc://?reader=x&speed=1", "unknown pcsc:// parameter"),
    ],
)
def test_bad_urls_fail_at_open(url: str, match: str) -> None:
    with pytest.raises(DeviceUnavailable, match=match):
        open_id_reader(url)


def test_pyserial_url_forms_reach_the_reader() -> None:
    # loop:// echoes our own request back: a 3-byte body is no valid response, so this is a ProtocolError.
    reader = open_id_reader("sam+serial://loop://?baudrate=9600")
    with pytest.raises(ProtocolError, match="below the minimum"):
        reader.read(timeout=0)
    assert reader.health().status == "error"
    reader.close()

"""Passports' machine-readable zones (ICAO Doc 9303 TD3): the standard's own specimen, every check digit, and
the lines arriving from the scanner simulators (in process and over a pseudo-terminal's serial line)."""

from __future__ import annotations

from datetime import date

import pytest

from peripherals.idcard import IdCard
from peripherals.scanner import (
    MrzAssembler,
    MrzError,
    PtyScannerSimulator,
    SimScanner,
    demo_passport,
    is_mrz_line,
    mrz_lines,
    open_scanner,
    parse_td3,
)
from queue_server.ids import icao_check_digit

# ICAO Doc 9303 Part 4, Appendix A: the specimen passport of Utopia.
SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TODAY = date(2026, 12, 6)
WAIT = 3.0


def test_icao_check_digits_of_the_specimen() -> None:
    # Doc 9303 Part 3 §4.9 worked example and the specimen's fields.
    assert icao_check_digit("520727") == "3"
    assert icao_check_digit("L898902C3") == "6"
    assert icao_check_digit("740812") == "2"
    assert icao_check_digit("120415") == "9"
    assert icao_check_digit("ZE184226B<<<<<") == "1"
    with pytest.raises(ValueError, match="no ICAO 9303 value"):
        icao_check_digit("a")


def test_the_specimen_decodes_into_the_card_model() -> None:
    card = parse_td3(*SPECIMEN, today=TODAY)
    assert card == IdCard(
        name="ERIKSSON ANNA MARIA",
        sex="女",
        nation="",
        birth_date=date(1974, 8, 12),
        address="",
        id_number="L898902C3",
        authority="UTO",
        valid_from=None,
        valid_to=date(2012, 4, 15),
        photo=b"",
        document="passport",
        name_en="ERIKSSON ANNA MARIA",
        nationality="UTO",
    )
    assert card.foreign
    assert "ERIKSSON" not in repr(card) and "L898902C3" not in repr(card)


def _swap(line: str, index: int, char: str) -> str:
    return line[:index] + char + line[index + 1 :]


@pytest.mark.parametrize(
    ("line2", "match"),
    [
        (_swap(SPECIMEN[1], 9, "7"), "document number's check digit"),
        (_swap(SPECIMEN[1], 19, "3"), "birth date's check digit"),
        (_swap(SPECIMEN[1], 27, "0"), "expiry date's check digit"),
        (_swap(SPECIMEN[1], 42, "2"), "personal number's check digit"),
        (_swap(SPECIMEN[1], 43, "1"), "composite check digit"),
        (_swap(SPECIMEN[1], 3, "9"), "document number's check digit"),  # a misread character
        (SPECIMEN[1][:43], "two lines of 44 characters"),
        (_swap(SPECIMEN[1], 20, "Q"), "unknown sex 'Q'"),
    ],
)
def test_every_check_is_verified(line2: str, match: str) -> None:
    with pytest.raises(MrzError, match=match):
        parse_td3(SPECIMEN[0], line2, today=TODAY)


def test_only_passports_and_unspecified_sex() -> None:
    with pytest.raises(MrzError, match="not a passport"):
        parse_td3("V" + SPECIMEN[0][1:], SPECIMEN[1], today=TODAY)
    line2 = _swap(SPECIMEN[1], 20, "<")
    assert parse_td3(SPECIMEN[0], line2, today=TODAY).sex is None


def test_the_birth_century_is_the_one_not_in_the_future() -> None:
    lines = mrz_lines(demo_passport())
    assert parse_td3(*lines, today=TODAY).birth_date == date(1985, 3, 15)
    child = IdCard(**{**_fields(demo_passport()), "birth_date": date(2019, 6, 1)})
    assert parse_td3(*mrz_lines(child), today=TODAY).birth_date == date(2019, 6, 1)


def _fields(card: IdCard) -> dict[str, object]:
    return {name: getattr(card, name) for name in IdCard.__dataclass_fields__}


def test_the_simulators_zone_round_trips() -> None:
    line1, line2 = mrz_lines(demo_passport())
    assert (line1, line2) == (
        "P<KORKIM<<MINSU<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
        "M123456788KOR8503150M3305201<<<<<<<<<<<<<<<2",
    )
    assert parse_td3(line1, line2, today=TODAY) == demo_passport()
    assert is_mrz_line(line1) and is_mrz_line(line2) and not is_mrz_line("YY-7K3Q9")


def test_assembler_pairs_lines_and_ignores_stray_codes() -> None:
    assembler = MrzAssembler(today=TODAY)
    assert assembler.feed(SPECIMEN[1]) is None  # a line 2 alone is nothing
    assert assembler.feed(SPECIMEN[0]) is None
    assert assembler.feed("YY-7K3Q9") is None  # a ticket code in between starts over
    assert assembler.feed(SPECIMEN[1]) is None
    assert assembler.feed(SPECIMEN[0]) is None
    card = assembler.feed(SPECIMEN[1])
    assert card is not None and card.id_number == "L898902C3"
    assert assembler.feed(SPECIMEN[0]) is None
    with pytest.raises(MrzError):
        assembler.feed(_swap(SPECIMEN[1], 43, "1"))


def test_sim_scanner_delivers_a_passport() -> None:
    scanner = SimScanner()
    try:
        scanner.scan_mrz(mrz_lines(demo_passport()))
        assembler = MrzAssembler(today=TODAY)
        assert assembler.feed(scanner.read(WAIT) or "") is None
        assert assembler.feed(scanner.read(WAIT) or "") == demo_passport()
    finally:
        scanner.close()


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_a_passport_over_a_serial_line(ending: str) -> None:
    with PtyScannerSimulator() as sim:
        scanner = open_scanner(sim.url + "?baudrate=9600")
        try:
            sim.scan_mrz(SPECIMEN, ending)
            assembler = MrzAssembler(today=TODAY)
            assert assembler.feed(scanner.read(WAIT) or "") is None
            card = assembler.feed(scanner.read(WAIT) or "")
            assert card is not None and card.name_en == "ERIKSSON ANNA MARIA"
        finally:
            scanner.close()

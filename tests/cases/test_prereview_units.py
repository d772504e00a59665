"""网上预审's pure parts: the phone proof (forged, expired, another hall's), the notice built from the catalogue,
the form fields of a situation, the item's queue, the card check at the window."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.cases import prereview, states
from queue_server.cases.catalog import load_catalog
from queue_server.cases.rules import form_fields
from queue_server.config import load_config
from queue_server.crypto import PiiCipher
from queue_server.errors import Conflict, Invalid
from queue_server.ids import make_id_number, mask_id_number
from queue_server.timeutil import utcnow

from ..harness import SECRET, TEST_CONFIG

CIPHER = PiiCipher(SECRET)
ITEMS = {i.code: i for i in load_catalog()}
GTH = ITEMS["SCZT-GTH-001"]


def test_a_proof_is_the_phone_of_its_hall_until_it_expires() -> None:
    now = utcnow()
    proof = prereview.make_proof(CIPHER, hall="t1", phone="13912345678", now=now)
    assert "13912345678" not in proof  # opaque
    assert prereview.proven_phone(CIPHER, proof, hall="t1", now=now) == "13912345678"
    assert prereview.proven_phone(CIPHER, proof, hall="t2", now=now) is None
    assert prereview.proven_phone(CIPHER, proof, hall="t1", now=now + prereview.PROOF_TTL) is None
    assert prereview.proven_phone(PiiCipher("another-secret"), proof, hall="t1", now=now) is None
    assert prereview.proven_phone(CIPHER, None, hall="t1", now=now) is None
    other_use = CIPHER.encrypt('{"h": "t1", "p": "13912345678", "e": 9999999999}', context="name")
    assert prereview.proven_phone(CIPHER, other_use, hall="t1", now=now) is None  # bound to its purpose


@given(st.text(max_size=300))
def test_no_string_is_taken_for_a_proof(junk: str) -> None:
    assert prereview.proven_phone(CIPHER, junk, hall="t1", now=utcnow()) is None


def test_the_form_fields_are_those_the_rules_check() -> None:
    fields = form_fields(GTH.rules or [], "self")
    assert [f["code"] for f in fields] == ["business_name", "scope"]
    assert all(f["required"] and f["label"] and f["label_en"] for f in fields)
    assert form_fields(GTH.rules or [], "agent") == []  # those rules are for the applicant in person
    collect = form_fields(ITEMS["SBYB-SBK-001"].rules or [], "lost")
    assert collect[0]["code"] == "collect" and collect[0]["one_of"]


def test_a_notice_names_each_line_from_the_catalogue_and_refuses_what_is_not_there() -> None:
    sit = GTH.situation("self")
    assert sit is not None
    fixes = [
        prereview.Fix("material", "premises", ""),
        prereview.Fix("field", "scope", "删除“食品销售”"),
        prereview.Fix("other", "", "请补充联系人"),
    ]
    got = prereview.notice(GTH, sit, fixes, "  ")
    assert [(f["label"], f["problem"]) for f in got["fixes"]] == [
        ("经营场所使用证明", "请按要求修改"),
        (form_fields(GTH.rules or [], "self")[1]["label"], "删除“食品销售”"),
        ("其他", "请补充联系人"),
    ]
    assert got["note"] == ""
    with pytest.raises(Invalid):
        prereview.notice(GTH, sit, [], " ")
    with pytest.raises(Invalid, match="authorization"):
        prereview.notice(GTH, sit, [prereview.Fix("material", "authorization", "")], "")  # the agent's only
    with pytest.raises(Invalid):
        prereview.notice(GTH, sit, [prereview.Fix("field", "nope", "")], "")


def test_the_items_queue_is_the_one_named_as_its_domain_if_it_takes_bookings() -> None:
    hall = load_config(TEST_CONFIG).halls[0]
    assert hall.queue("A").name == GTH.domain and hall.queue("A").slot_capacity == 0
    assert prereview.queue_of(hall, GTH) is None  # the test hall's A takes no bookings
    booking = hall.model_copy(update={"queues": [q.model_copy(update={"slot_capacity": 3}) for q in hall.queues]})
    assert prereview.queue_of(booking, GTH) == "A"
    assert prereview.queue_of(booking, ITEMS["SBYB-YD-002"]) is None  # 社保医保: no such queue there


def _case(channel: str, idn: str) -> Any:
    masked, key = mask_id_number(idn), CIPHER.keyed_hash(idn)
    return SimpleNamespace(channel=channel, id_hash=key, id_masked=masked, id_type="resident", nationality=None)


def test_the_card_at_the_window_must_be_the_bound_one() -> None:
    bound, other = make_id_number(serial=101), make_id_number(serial=102)
    web = _case("web", bound)
    prereview.check_card(CIPHER, web, "accept", bound)
    prereview.check_card(CIPHER, web, "accept", bound.lower())  # a lower-case x is the same number
    with pytest.raises(Conflict, match=mask_id_number(bound).replace("*", r"\*")):
        prereview.check_card(CIPHER, web, "accept_shortfall", other)
    with pytest.raises(Invalid):
        prereview.check_card(CIPHER, web, "accept_commitment", None)
    with pytest.raises(Invalid):
        prereview.check_card(CIPHER, web, "accept", "12345")
    prereview.check_card(CIPHER, web, "reject", None)  # only acceptance needs the person
    prereview.check_card(CIPHER, _case("kiosk", bound), "accept", None)  # the kiosk read the card itself


def test_a_web_case_starts_in_pre_review_and_is_taken_in_after_it() -> None:
    assert states.allowed_actions(states.PREREVIEW_PASSED, "clerk")[:2] == ["accept", "accept_shortfall"]
    assert states.allowed_actions(states.PREREVIEW, "kiosk") == []  # the citizen waits
    assert states.allowed_actions(states.PREREVIEW_RETURNED, "kiosk") == ["prereview_resubmit"]
    assert timedelta(minutes=30) == prereview.PROOF_TTL

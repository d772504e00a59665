"""Appointments (预约办): slots, booking, cancel, reschedule, check-in by code or ID number."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field

from peripherals.documents.appointment import AppointmentData, appointment_pdf

from ...cases.api_submit import pdf_response
from ...citizen_text import OTHER_LANGS
from ...config import HallConfig
from ...context import HallContext
from ...errors import Conflict, Forbidden, Invalid
from ...identity import ID_TYPE_DOC, NATIONALITY_DOC, IdType, document
from ...ids import InvalidIdNumber
from ...languages import choose, pick
from ...ratelimit import PER_ADDRESS_HOUR, client_of
from ...services import appointments as svc
from ...services.auth import Principal
from ...services.tx import HallTx
from ..deps import CtxDep, OptionalPrincipalDep, asked_in, json_response
from ..schemas import CitizenLanguages, Text, TicketIssued
from .track import ticket_track_url

router = APIRouter(prefix="/api/v1", tags=["appointments"])
Code = Annotated[str, Path(min_length=4, max_length=16, pattern="^[A-Za-z0-9]+$")]


class SlotInfo(BaseModel):
    """One appointment slot."""

    start: datetime
    end: datetime
    capacity: int
    booked: int


class BookBody(BaseModel):
    """A booking by web, mobile, hotline (a clerk books for a caller) or kiosk."""

    queue: Text = Field(min_length=1, max_length=8)
    start: datetime
    name: Text = Field(min_length=1, max_length=64)
    id_number: Text = Field(max_length=32)
    id_type: IdType | None = Field(default=None, description=ID_TYPE_DOC)
    nationality: Text | None = Field(default=None, max_length=3, description=NATIONALITY_DOC)
    phone: Text | None = Field(default=None, max_length=32)
    channel: Literal["web", "mobile", "phone", "counter", "kiosk"] = "web"
    lang: Literal["zh", "en", "ko", "ja", "ru"] | None = Field(
        default=None, description="the citizen's language (else Accept-Language): messages, check-in, confirmation"
    )


class RescheduleBody(BaseModel):
    """The new slot."""

    start: datetime


class CheckInBody(CitizenLanguages):
    """Check in by code: optionally the kiosk's language and 需要语言服务, which go on the ticket (issue 22)."""


class IdCheckInBody(CheckInBody):
    """Check in with the identity document booked with (ID card, foreign card, passport) instead of the code."""

    id_number: Text = Field(max_length=32)
    id_type: IdType | None = None
    nationality: Text | None = Field(default=None, max_length=3)


class AppointmentOut(BaseModel):
    """An appointment as its holder sees it: personal data masked."""

    code: str
    status: str
    queue: str
    start: datetime
    end: datetime
    hall: str
    name_masked: str
    id_number_masked: str
    id_type: str = "resident"
    nationality: str | None = None
    phone_masked: str | None = None
    lang: str | None = Field(default=None, description="the citizen's language, as booked (issue 22)")
    qr: str = Field(description="payload of the QR code to show or print: scanned at the kiosk to check in")


class CheckInOut(TicketIssued):
    """The ticket a check-in gave, with a note when it is an ordinary ticket because of lateness."""

    note: str = ""
    appointment: str


def _out(a: svc.AppointmentInfo, tz: Any) -> AppointmentOut:
    return AppointmentOut(
        code=a.code,
        status=a.status,
        queue=a.queue,
        start=a.slot_start.astimezone(tz),
        end=a.slot_end.astimezone(tz),
        hall=a.hall_code,
        name_masked=a.name_masked,
        id_number_masked=a.id_masked,
        id_type=a.id_type,
        nationality=a.nationality,
        phone_masked=a.phone_masked,
        lang=a.lang,
        qr=f"HALLAPPT:{a.code}",
    )


@router.get("/halls/{hall}/slots", response_model=list[SlotInfo], tags=["public"])
async def list_slots(
    hall: str,
    ctx: CtxDep,
    queue: Annotated[str, Query(max_length=8)],
    day: Annotated[date, Query(alias="date")],
) -> list[SlotInfo]:
    """A day's slots of a queue with capacity and bookings (no login: no personal data)."""
    rows = await ctx.read_hall(hall, lambda r: svc.slots(r, queue, day))
    tz = ctx.zones[hall]
    return [
        SlotInfo(
            start=r["start"].astimezone(tz), end=r["end"].astimezone(tz), capacity=r["capacity"], booked=r["booked"]
        )
        for r in rows
    ]


@router.post("/halls/{hall}/appointments", status_code=201, response_model=AppointmentOut)
async def book(
    hall: str,
    body: BookBody,
    request: Request,
    ctx: CtxDep,
    who: OptionalPrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    """Book a slot; 409 when it is full or the person already has one that day for this service.

    Repeating the same `Idempotency-Key` returns the first booking (200): a kiosk that lost the answer retries.
    """
    ctx.hall(hall)
    _citizen_endpoint(who, hall)
    if who is None:
        await ctx.limiter.check(f"book:{client_of(request)}", per_hour=20)
    lang = choose(body.lang, request.headers.get("accept-language"))

    def once(tx: HallTx) -> tuple[svc.AppointmentInfo, bool]:
        prior = svc.booked_with_key(tx, queue=body.queue, key=idempotency_key) if idempotency_key else None
        if prior is not None:
            return prior, False
        new = svc.book(
            tx,
            queue=body.queue,
            start=body.start,
            name=body.name,
            id_number=body.id_number,
            phone=body.phone,
            channel=body.channel,
            idempotency_key=idempotency_key,
            id_type=body.id_type,
            nationality=body.nationality,
            lang=lang,  # its refusals too: Chinese first, then this language
        )
        return new, True

    a, created = await ctx.change(hall, once)
    ctx.remember_appointment(a.code, hall)
    return json_response(_out(a, ctx.zones[hall]), 201 if created else 200)


async def _limit_anonymous(ctx: HallContext, request: Request, who: Principal | None) -> None:
    """A booking code or ID number from a caller without a token: counted per address (kiosks are not)."""
    if who is None:
        await ctx.limiter.check(f"appointment:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)


def _citizen_endpoint(who: Principal | None, hall: str) -> None:
    if who is None:
        return
    if who.role not in ("kiosk", "clerk", "admin") or not who.in_hall(hall):
        raise Forbidden("无权为此大厅办理预约 / You may not book for this hall")


async def _hall_of_code(ctx: CtxDep, code: str, lang: str | None = None) -> str:
    """The appointment's hall: remembered from its booking or an earlier look-up, else read (404 if none)."""
    hall = ctx.appointment_halls.get(code.upper())
    if hall is None:
        hall = (await ctx.read(lambda s: svc.find(s, code, lang))).hall_code
        ctx.remember_appointment(code, hall)
    return hall


@router.get("/appointments/{code}", response_model=AppointmentOut, tags=["public"])
async def get_appointment(code: Code, request: Request, ctx: CtxDep, who: OptionalPrincipalDep) -> AppointmentOut:
    """An appointment by its code (the code is the holder's proof; rate-limited without a token)."""
    await _limit_anonymous(ctx, request, who)
    lang = asked_in(request)
    a = await ctx.read(lambda s: svc.find(s, code, lang))
    return _out(a, ctx.zones[a.hall_code])


@router.get("/appointments/{code}/confirmation.pdf", tags=["public"])
async def confirmation(code: Code, request: Request, ctx: CtxDep, who: OptionalPrincipalDep) -> Response:
    """The appointment confirmation (预约确认单) as PDF: Chinese first, the second lines in the booking's language
    (한국어, 日本語, Русский; else English). The code is the holder's proof, as for `GET /appointments/{code}`
    (rate-limited without a token); a kiosk or clerk of another hall: 403; an appointment no longer booked: 409."""
    await _limit_anonymous(ctx, request, who)
    a = await ctx.read(lambda s: svc.find(s, code, asked_in(request)))
    _citizen_endpoint(who, a.hall_code)
    if a.status != svc.BOOKED:
        raise Conflict(f"预约当前为 {a.status}，没有确认单 / This appointment is {a.status}: no confirmation")
    h, tz = ctx.hall(a.hall_code), ctx.zones[a.hall_code]
    start, end = a.slot_start.astimezone(tz), a.slot_end.astimezone(tz)
    lang = a.lang if a.lang in OTHER_LANGS else None
    names = h.names_of(a.queue)
    data = AppointmentData(
        hall_name=h.name,
        hall_name_en=h.name_en or h.name,
        domain=names["zh"],
        domain_en=pick(names, lang),
        date=start.date(),
        slot_start=start.time(),
        slot_end=end.time(),
        booking_code=a.code,
        qr_payload=f"HALLAPPT:{a.code}",
        masked_name=a.name_masked,
        masked_id=a.id_masked,
        lang=lang,
    )
    return pdf_response(await anyio.to_thread.run_sync(appointment_pdf, data), f"appointment-{a.code}.pdf")


@router.post("/appointments/{code}/cancel", response_model=AppointmentOut)
async def cancel(code: Code, request: Request, ctx: CtxDep, who: OptionalPrincipalDep) -> AppointmentOut:
    """Cancel a booked appointment; its seat is free again."""
    await _limit_anonymous(ctx, request, who)
    lang = asked_in(request)
    hall = await _hall_of_code(ctx, code, lang)
    _citizen_endpoint(who, hall)
    a = await ctx.change(hall, lambda tx: svc.cancel(tx, code=code, lang=lang))
    return _out(a, ctx.zones[hall])


@router.post("/appointments/{code}/reschedule", response_model=AppointmentOut)
async def reschedule(
    code: Code, body: RescheduleBody, request: Request, ctx: CtxDep, who: OptionalPrincipalDep
) -> AppointmentOut:
    """Move a booked appointment to another slot with room."""
    await _limit_anonymous(ctx, request, who)
    lang = asked_in(request)
    hall = await _hall_of_code(ctx, code, lang)
    _citizen_endpoint(who, hall)
    a = await ctx.change(hall, lambda tx: svc.reschedule(tx, code=code, start=body.start, lang=lang))
    return _out(a, ctx.zones[hall])


def _languages(body: CheckInBody, request: Request) -> dict[str, str | None]:
    """A check-in's `lang`, `interpreter` and the language its refusals' second half is in (else Accept-Language)."""
    reply = body.lang or asked_in(request)
    return {"lang": body.lang, "interpreter": body.interpreter, "reply_lang": reply}


def _checked_in(c: svc.CheckIn, tz: Any, h: HallConfig, request: Request) -> CheckInOut:
    o = c.ticket
    base = TicketIssued.issued(o, tz, ticket_track_url(h, request, o.ticket.track_token)).model_dump()
    return CheckInOut(**base, note=c.note, appointment=c.appointment)


@router.post("/appointments/{code}/check-in", status_code=201, response_model=CheckInOut)
async def check_in(
    code: Code,
    request: Request,
    ctx: CtxDep,
    who: OptionalPrincipalDep,
    body: Annotated[CheckInBody | None, Body()] = None,
) -> Response:
    """Check in (签到): a ticket in lane `appointment`; too early → 409 saying when; late → an ordinary ticket.

    The optional body's `lang` and `interpreter` go on the ticket (422 for an interpreter the hall does not offer).
    """
    # Served by the fast routes (api/fast.py) whenever the request is well-formed: it returns its own Response.
    await _limit_anonymous(ctx, request, who)
    langs = _languages(body or CheckInBody(), request)
    hall = await _hall_of_code(ctx, code, langs["reply_lang"])
    _citizen_endpoint(who, hall)
    h, tz = ctx.hall(hall), ctx.zones[hall]

    def run(tx: HallTx) -> svc.CheckIn:
        return svc.check_in(tx, a=svc.load(tx, tx.session, code, langs["reply_lang"]), **langs)

    return json_response(_checked_in(await ctx.change(hall, run), tz, h, request), 201)


@router.post("/halls/{hall}/appointments/check-in", status_code=201, response_model=CheckInOut)
async def check_in_by_id(
    hall: str, body: IdCheckInBody, request: Request, ctx: CtxDep, who: OptionalPrincipalDep
) -> CheckInOut:
    """Check in with the document booked with (`id_type`, `nationality` for a passport): that person's earliest
    booked appointment in this hall due now (today's, or one just after midnight whose check-in window is open)."""
    h = ctx.hall(hall)
    _citizen_endpoint(who, hall)
    await _limit_anonymous(ctx, request, who)
    try:
        doc = document(body.id_type, body.id_number, body.nationality)
    except InvalidIdNumber as exc:
        raise Invalid(str(exc)) from None
    id_hash = ctx.cipher.keyed_hash(doc.key)

    langs = _languages(body, request)

    def run(tx: HallTx) -> svc.CheckIn:
        a = svc.find_for_person(tx, id_hash=id_hash, lang=langs["reply_lang"])
        return svc.check_in(tx, a=a, **langs)

    return _checked_in(await ctx.change(hall, run), ctx.zones[hall], h, request)

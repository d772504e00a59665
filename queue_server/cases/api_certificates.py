"""Electronic certificate routes (电子证照): signing after an approval, downloads, revocation, public verification.

`/verify/<code>` is the page the certificate's QR code opens (static: its data comes from
`/api/v1/verify/<code>`). Codes are 192-bit random strings, and still every address's verifications are counted
(PER_ADDRESS_HOUR an hour) so that nobody can walk the code space.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from ..api.deps import CtxDep, PrincipalDep
from ..api.routes.track import public_url
from ..api.schemas import Text
from ..context import HallContext
from ..errors import Conflict, NotFound
from ..models import AuditLog
from ..ratelimit import PER_ADDRESS_HOUR, client_of, guard_proof
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import certificates as certs
from . import query, signing
from .api_submit import hall_of, pdf_response
from .licence_pdf import licence_pdf
from .service import check_staff, load

router = APIRouter(prefix="/api/v1", tags=["cases"])
pages = APIRouter(tags=["public"])
WEB_DIR = Path(__file__).resolve().parent / "web"
Code = Annotated[str, PathParam(min_length=16, max_length=48, pattern=r"^[A-Za-z0-9_-]+$")]
VIEWERS = ("clerk", "approver", "auditor")


class RevokeBody(BaseModel):
    """Why a certificate is revoked (shown on the verification page)."""

    reason: Text = Field(min_length=1, max_length=300)


def _sign(signer: signing.HallSigner, job: certs.ToSign) -> bytes:
    pdf = licence_pdf(job.fields)
    return signing.sign_pdf(pdf, signer, title=job.fields.name, organ=job.fields.organ, reason="电子证照签发 Issued")


async def sign_pending(ctx: HallContext, request: Request, number: str) -> int:
    """Sign the case's certificates that have no PDF yet (after its approval, or when one was cut short)."""
    signer = ctx.signer
    if signer is None:
        return 0
    hall = await hall_of(ctx, number)
    base = public_url(ctx.hall(hall), request)
    tz = ctx.zones[hall]

    def pending(s: Session) -> list[certs.ToSign]:
        c = load(s, number)
        return [certs.signing_input(s, ctx.cipher, c, x, tz, base) for x in certs.of_case(s, c) if x.pdf_enc is None]

    done = 0
    for job in await ctx.read(pending):
        pdf = await anyio.to_thread.run_sync(_sign, signer, job)
        done += await ctx.change(hall, functools.partial(_store, job=job, pdf=pdf, subject=signer.subject))
    return done


def _store(tx: HallTx, *, job: certs.ToSign, pdf: bytes, subject: str) -> bool:
    return certs.store_signed(tx, cert_id=job.id, pdf=pdf, signer=subject, cipher=tx.pii)


async def _pdf(ctx: HallContext, request: Request, number: str, code: str, audit: AuditLog | None) -> Response:
    hall = await hall_of(ctx, number)

    def find(s: Session) -> bool:
        c = load(s, number)
        if not any(x.code == code for x in certs.of_case(s, c)):
            raise NotFound("没有这份电子证照 / No such certificate")
        return certs.by_code(s, code).pdf_enc is None

    if await ctx.read(find):
        await sign_pending(ctx, request, number)

    def run(tx: HallTx) -> bytes | None:
        if audit is not None:
            tx.session.add(audit)
        return certs.pdf_of(certs.by_code(tx.session, code), tx.pii)

    pdf = await ctx.change(hall, run)
    if pdf is None:
        raise Conflict("电子证照尚未签发：未配置签名证书 / The certificate is not signed: no signing key is configured")
    return pdf_response(pdf, f"{number}-certificate.pdf")


@router.get("/cases/{number}/certificates/{code}.pdf")
async def certificate_pdf(number: str, code: Code, request: Request, ctx: CtxDep, who: PrincipalDep) -> Response:
    """The signed certificate of a case (staff of its hall); every download is written to the audit log."""
    hall = await hall_of(ctx, number)
    check_staff(who, hall, *VIEWERS)
    audit = AuditLog(at=utcnow(), actor=who.name, action="case.certificate", hall_code=hall, subject=f"case:{number}")
    return await _pdf(ctx, request, number, code, audit)


@router.get("/cases/{number}/certificate.pdf", tags=["public"])
async def own_certificate(
    number: str, request: Request, ctx: CtxDep, proof: Annotated[str, Query(max_length=32)]
) -> Response:
    """The citizen's own certificate (the latest of the case) with the receipt's query code; rate-limited."""
    await guard_proof(ctx.limiter, request, "case-query", number.strip().upper())

    def find(s: Session) -> str:
        c = query.by_proof(s, ctx.cipher, number, proof, last4=False)
        found = certs.of_case(s, c)
        if not found:
            raise NotFound("此办件没有电子证照 / This case has no electronic certificate")
        return found[-1].code

    code = await ctx.read(find)
    return await _pdf(ctx, request, number, code, None)


@router.post("/certificates/{code}/revoke")
async def revoke(code: Code, body: RevokeBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """Revoke a certificate (approver of its hall): audited, in the case's history, shown on /verify."""
    hall = await ctx.read(lambda s: certs.by_code(s, code).hall_code)
    check_staff(who, hall, "approver")
    tz = ctx.zones[hall]

    def run(tx: HallTx) -> dict[str, Any]:
        cert = certs.revoke(tx, code=code, who=who, reason=body.reason)
        return certs.public(cert, tz, utcnow().astimezone(tz).date())

    return await ctx.change(hall, run)


@router.get("/verify/{code}", tags=["public"])
async def verify(code: Code, request: Request, ctx: CtxDep) -> dict[str, Any]:
    """Public verification of a certificate: valid, revoked or expired (404: unknown), masked holder, dates."""
    await ctx.limiter.check(f"verify-ip:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)

    def run(s: Session) -> dict[str, Any]:
        cert = certs.by_code(s, code)
        tz = ctx.zones[cert.hall_code]
        return certs.public(cert, tz, utcnow().astimezone(tz).date())

    return await ctx.read(run)


@pages.get("/verify/{code}", include_in_schema=False)
async def verify_page(code: str) -> Response:
    """The verification page behind a certificate's QR code: the same static page for every code (a mistyped or
    cut code gets the page too, which then says 未找到 from the API's answer, not a JSON error)."""
    return FileResponse(WEB_DIR / "verify.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

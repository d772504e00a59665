"""Case routes (issue 8): items catalog, self-submission, acceptance, back office, output and query."""

from __future__ import annotations

from fastapi import APIRouter

from ...cases import (
    api_certificates,
    api_chains,
    api_desk,
    api_handover,
    api_items,
    api_ledger,
    api_prereview,
    api_submit,
)

router = APIRouter()
router.include_router(api_items.router)
router.include_router(api_submit.router)
router.include_router(api_desk.router)
router.include_router(api_handover.router)
router.include_router(api_submit.pages)
router.include_router(api_certificates.router)
router.include_router(api_certificates.pages)
router.include_router(api_ledger.router)
router.include_router(api_ledger.pages)
router.include_router(api_chains.router)
router.include_router(api_prereview.router)
router.include_router(api_prereview.pages)

"""Security headers of every HTML page the server sends (boards, pad, feedback, case query, reports, console,
the API docs), added by the server's one ASGI middleware (api/middleware.py), so a new page cannot forget them."""

from __future__ import annotations

# The pages hold no data (it comes from the API with a token or a proof), load only their own scripts and
# styles, and are never framed by another site nor leak their address (a tracking token) onward.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

"""Silent calling: messages to citizens' phones through an outbox written with each change.

- `enqueue(tx, …)` (outbox) adds a message inside a hall transaction; `messages` builds its text.
- `Dispatcher` sends pending messages through the `[notify]` provider (log or signed webhook), with
  retries, backoff and a dead letter; `start(ctx)` runs one in the server.
- `api.router`: the staff view (`GET /api/v1/halls/{hall}/notifications`) and requeueing a dead message.

Wiring in `queue_server/app.py`:

    from . import notify                                   # with the other imports
    from .notify import api as notify_api

    dispatcher = notify.start(shared)                      # lifespan: after hub.attach(), before yield
    await dispatcher.stop()                                # lifespan finally: before the writer closes

    app.include_router(notify_api.router)                  # with the other routers

A commit that enqueued wakes the dispatcher by itself (see `outbox`); no call is needed after commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import messages
from .dispatcher import Dispatcher
from .outbox import enqueue

if TYPE_CHECKING:
    from ..context import HallContext

__all__ = ["Dispatcher", "enqueue", "messages", "start"]


def start(ctx: HallContext) -> Dispatcher:
    """Start the server's dispatcher on the running event loop; call `await dispatcher.stop()` at shutdown."""
    dispatcher = Dispatcher(ctx.db, ctx.cipher, ctx.config.notify)
    dispatcher.start()
    return dispatcher

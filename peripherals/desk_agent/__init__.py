"""The general desk's device agent: its ID-card reader and ESC/POS ticket printer, serving the desk page.

    python -m peripherals.desk_agent --server http://10.0.0.2:8000 --token TOKEN \\
        --id-reader sam+serial:///dev/ttyUSB1 --printer escpos+serial:///dev/ttyUSB0?paper=80

See `agent` for what it does and docs/console.md ("General desk") for the design.
"""

from __future__ import annotations

from .agent import AgentRefused, DeskAgent, card_body, combined_health, ticket_data

__all__ = ["AgentRefused", "DeskAgent", "card_body", "combined_health", "ticket_data"]

"""`--script` steps of self-submission, case query and pickup (this part's `script`; `kiosk.script` runs them).

Steps: `sub:KEY` (the button showing this part's catalogue string KEY: `sub:capture`, `sub:next`, `sub:submit`,
`sub:bring_later`, `sub:start`, `sub:phone_skip`, `sub:submit_tile`, …), `field:number|proof` (the case query's
field the keypad types into), `tile:KEY` (a domain, item or situation tile by its key), `search:TEXT` (type TEXT in
the search box and search), `fieldtext:TEXT` (type TEXT into a chain's text field, as the on-screen keyboard
would; then `sub:ok`, or `sub:field_at_window` to leave it for the window), `wait:SCREEN` for this part's screens
(`sub_review`, `sub_queued`, `q_list`, …) and `wait:outbox-empty` (every queued submission sent).
"""

from __future__ import annotations

from typing import Any

from kiosk.script import PartSteps, ScriptRunner, visible_buttons


class SubmissionSteps(PartSteps):
    """This part's steps (see the module doc)."""

    slow = frozenset({"outbox-empty"})  # every queued submission sent: up to 120 s

    def button(self, run: ScriptRunner, name: str, arg: str) -> Any:
        """`sub:KEY`, `field:…`, `tile:KEY`."""
        ui, root = self.part, run.app.root
        if name == "sub":
            return lambda: run.by_text(ui.tx[arg])
        if name == "field":  # the case query's field: `field:number` or `field:proof` (its label, then what is typed)
            return lambda: next((b for b in visible_buttons(root) if b.text.startswith(ui.tx[f"query_{arg}"])), None)
        if name == "tile":
            return lambda: run.by_key(arg)
        return None

    def act(self, run: ScriptRunner, name: str, arg: str) -> bool:
        """`search:TEXT`: type it, then tap search; `fieldtext:TEXT`: type it into the text field."""
        if name == "fieldtext":
            run.app.root.ids.sm.get_screen("sub_fields").ids.text.text = arg
            run.next_soon()
            return True
        if name != "search":
            return False
        run.app.root.ids.sm.get_screen("sub_domains").ids.search.text = arg
        run.steps[:0] = ["sub:search"]
        run.next_soon()
        return True

    def ready(self, run: ScriptRunner, screen: str) -> bool | None:
        """Its screens once loaded (and not capturing); the outbox empty."""
        ui = self.part
        if screen == "outbox-empty":
            return ui.outbox is None or not ui.outbox.pending()
        if not screen.startswith(("sub_", "q_", "pk_")):
            return None
        f = ui.flow
        loaded = {
            "sub_domains": bool(f.domains),
            "sub_items": f.items is not None,
            "sub_template": f.situation is not None,
            "sub_result": f.print_state in ("printed", "failed"),
        }.get(screen, True)
        return bool(ui.current == screen and loaded and not f.capturing)

// Runs board-reducer fixtures (tests/fixtures/board/*.json) through the web board's reducer and prints, per
// fixture, what each step left: {"resync": bool, "view": <snapshot-shaped board state>}.
// Usage: node tests/web/reducer_runner.mjs FIXTURE.json... (called by tests/display_board/test_reducer_spec.py)
import { readFileSync } from "node:fs";
import { Gap, apply, fromSnapshot, snapshotView } from "../../queue_server/web/board/reducer.js";

const out = {};
for (const path of process.argv.slice(2)) {
  const fx = JSON.parse(readFileSync(path, "utf8"));
  let state = fromSnapshot(fx.snapshot.seq, fx.snapshot.data);
  out[path] = fx.steps.map((step) => {
    let resync = false;
    if (step.snapshot) {
      state = fromSnapshot(step.snapshot.seq, step.snapshot.data);
    } else {
      try {
        state = apply(state, step.event);
      } catch (e) {
        if (!(e instanceof Gap)) throw e;
        resync = true; // the board asks for a fresh snapshot; its state stays as it was
      }
    }
    return { resync, view: snapshotView(state) };
  });
}
process.stdout.write(JSON.stringify(out));

// Extra panels of the clerk console, e.g. case acceptance at the window (issue 8). A module registers a
// panel and is imported by console.js; the console gives every panel its own box in the right column
// and calls `update` with the current desk after each change:
//   addPanel({ id: "cases", title: ["收件受理", "Cases"], mount(box, ctx) {}, update(box, ctx) {} })
// where ctx = { me, hall, window, desk, get, post, notify }.

const panels = [];

/** Register a panel (call at module load, before the console opens its desk). */
export function addPanel(panel) {
  panels.push(panel);
}

/** The registered panels, in registration order. */
export function registered() {
  return panels.slice();
}

// The board-state reducer of the web boards: a pure function from (state, event) to the next state, no DOM,
// no I/O (it runs in browsers and under node). The same rules as the Kivy board's display_board/state.py —
// one specification, tests/fixtures/board/*.json, runs against both (tests/display_board/test_reducer_spec.py).
//
// A board starts from the server's snapshot (fromSnapshot) and folds every event of the hall stream into it
// (apply). snapshotView gives back exactly the board state GET /api/v1/halls/{hall}/board would carry after
// the same event. recent_calls: a (re)call moves the ticket to the top; a transfer or a rejoin clears its
// called time, so it leaves the list and an older call moves up — the reducer keeps up to HISTORY calls for
// that and, when it cannot know the call that moves up (it started from a snapshot, which lists only ten),
// apply throws SnapshotNeeded: the page asks for a fresh snapshot.

export const RECENT_CALLS = 10; // what the server's snapshot lists
export const HISTORY = 50; // calls remembered, so that a call leaving the list can be replaced exactly
const AT_WINDOW = new Set(["called", "serving"]);
const BRIEF_KEYS = ["id", "number", "queue", "lane", "status", "window"];
const WINDOW_KEYS = ["number", "name", "name_en", "queues", "status", "reason"];

/** The event does not follow the state (seq > state.seq + 1): resync. */
export class Gap extends Error {
  constructor(expected, got) {
    super(`event seq ${got} does not follow ${expected - 1}: resync`);
    this.expected = expected;
    this.got = got;
  }
}

/** The state cannot follow this event exactly: fetch a fresh snapshot. */
export class SnapshotNeeded extends Gap {}

const copy = (o) => structuredClone(o);

/** The state of a snapshot message (or of GET …/board: its seq and data). */
export function fromSnapshot(seq, data) {
  const recent = copy(data.recent_calls || []);
  return {
    seq,
    hall: copy(data.hall || {}),
    queues: copy(data.queues || []),
    windows: copy(data.windows || []),
    history: recent,
    historyComplete: recent.length < RECENT_CALLS,
    notice: String(data.notice ?? ""),
    lastCall: null, // the newest ticket.called/recalled message seen, for flashing (not in the snapshot)
  };
}

/** Exactly the snapshot-shaped board state the server would send at state.seq. */
export function snapshotView(state) {
  return {
    hall: copy(state.hall),
    queues: copy(state.queues),
    windows: copy(state.windows),
    recent_calls: copy(state.history.slice(0, RECENT_CALLS)),
    notice: state.notice,
  };
}

/** The ticket brief (id, number, queue, lane, status, window?) of a ticket.* event. */
export function briefOf(data) {
  const b = {};
  for (const k of BRIEF_KEYS) if (k in data) b[k] = data[k];
  return b;
}

/** An event's `at` (hall-local ISO 8601) as the server writes stored times: ISO 8601 in UTC, same digits. */
export function utcIso(at) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(at);
  if (!m) return at;
  let offset = 0;
  if (m[8] !== "Z") offset = (m[8][0] === "-" ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5] - offset, +m[6]));
  const p = (n, w = 2) => String(n).padStart(w, "0");
  const day = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  return `${day}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${m[7] || ""}+00:00`;
}

/**
 * The state after one stream message {seq, type, at, hall, data}. Messages with seq <= state.seq (duplicates,
 * replays) return state unchanged; a gap throws Gap. Types a board does not show only advance seq.
 */
export function apply(state, msg) {
  const seq = Number(msg.seq);
  if (seq <= state.seq) return state;
  if (seq !== state.seq + 1) throw new Gap(state.seq + 1, seq);
  const kind = String(msg.type || "");
  const data = msg.data || {};
  if (kind.startsWith("ticket.")) return ticket(state, seq, kind, String(msg.at), data);
  if (kind === "queue.stats") return { ...state, seq, queues: withStats(state.queues, data.queues || []) };
  if (kind === "window.status") return { ...state, seq, windows: withWindowStatus(state.windows, data) };
  if (kind === "notice") return { ...state, seq, notice: String(data.text ?? "") };
  return { ...state, seq };
}

function withStats(queues, stats) {
  const byCode = new Map(stats.map((s) => [s.code, s]));
  return queues.map((q) => {
    const s = byCode.get(q.code);
    return s === undefined ? q : { ...q, waiting: s.waiting, estimated_wait_s: s.estimated_wait_s };
  });
}

function withWindowStatus(windows, data) {
  const fields = {};
  for (const k of WINDOW_KEYS) if (k in data) fields[k] = copy(data[k]);
  let found = false;
  const out = windows.map((w) => {
    if (w.number !== data.number) return w;
    found = true;
    return { ...w, ...fields };
  });
  if (!found) {
    out.push({ ...fields, current: null }); // a window added to the configuration after the snapshot
    out.sort((a, b) => Number(a.number) - Number(b.number));
  }
  return out;
}

function ticket(state, seq, kind, at, data) {
  const b = briefOf(data);
  const id = b.id;
  const queues = withStats(state.queues, data.queues || []);

  // Windows: the current ticket while it is called or serving there.
  const atWindow = AT_WINDOW.has(b.status) && "window" in b;
  const windows = state.windows.map((w) => {
    const cur = w.current;
    if (kind === "ticket.expired" && cur) return { ...w, current: null }; // the day-end expiry empties every window
    if (atWindow && w.number === b.window) return { ...w, current: { ...b } };
    if (cur && cur.id === id) return { ...w, current: atWindow && w.number === b.window ? { ...b } : null };
    return w;
  });

  // Recent calls: moved to the top by a (re)call, dropped when the called time is cleared.
  const history = state.history.slice();
  let complete = state.historyComplete;
  let lastCall = state.lastCall;
  const index = history.findIndex((r) => r.id === id);
  if ((kind === "ticket.called" || kind === "ticket.recalled") && "window" in b) {
    if (index >= 0) history.splice(index, 1);
    history.unshift({ ...b, at: utcIso(at) });
    if (history.length > HISTORY) {
      history.length = HISTORY;
      complete = false;
    }
    lastCall = { seq, type: kind, at, ...b };
    if ("announce" in data) lastCall.announce = data.announce;
  } else if (index >= 0) {
    if (kind === "ticket.transferred" || kind === "ticket.rejoined") {
      history.splice(index, 1);
      if (history.length < RECENT_CALLS && !complete) throw new SnapshotNeeded(state.seq + 1, seq);
    } else {
      history[index] = { ...b, at: history[index].at };
    }
  }
  return { ...state, seq, queues, windows, history, historyComplete: complete, lastCall };
}

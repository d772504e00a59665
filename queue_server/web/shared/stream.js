// The hall event stream for every web page (boards, staff console, window pad, tracking): the one follower.
// Snapshot on connect, resume with ?since=seq after a drop, events handed on in seq order, a fresh snapshot on
// a gap (or when the page asks: resync()), reconnect with backoff, "connection lost" after silence.
// The message shapes are queue_server/schemas (envelope {seq, type, at, hall, data}); the Python twin is
// hall_client/follower.py. A token (device or staff) goes as ?token= so the server limits it to its hall.

const STALE_MS = 40000; // no event or heartbeat for this long: offline (the server heartbeats every 15 s)
const BACKOFF_MIN_MS = 300;
const BACKOFF_MAX_MS = 5000;
const REFUSED = new Set([4401, 4403, 4404]); // bad token, token of another hall, unknown hall

export class HallStream {
  /**
   * @param {string} hall
   * @param {() => string|null} tokenFn the current token, if any
   * @param {{onSnapshot?: Function, onEvent?: Function, onStatus?: Function, onRefused?: Function,
   *          onOpen?: Function}} handlers onSnapshot(msg) and onEvent(msg) get whole messages, events in seq
   *   order without gaps; onStatus(online) when the connection is lost or back; onOpen() on each connection
   * @param {{refusedRetryMs?: number|null, heartbeatS?: number|null, staleMs?: number,
   *   path?: string}} options
   *   refusedRetryMs: refused (4401/4403/4404): stop and call onRefused (default), or keep trying this slowly
   *   (a board on a wall has nobody to fix its URL right away). heartbeatS: ask the server for a heartbeat
   *   after this many seconds of quiet (?heartbeat=, at least 1) instead of its 15 s. staleMs: no message for
   *   this long means offline (default 40 s; with heartbeatS a few heartbeats); an open but silent connection
   *   is then dropped and a new one resumes with since. path: another stream of the same protocol (a ticket's
   *   own, /ws/track/<token>) instead of the hall's.
   */
  constructor(hall, tokenFn, handlers, options = {}) {
    this.hall = hall;
    this.tokenFn = tokenFn;
    this.h = handlers;
    this.refusedRetryMs = options.refusedRetryMs ?? null;
    this.heartbeatS = options.heartbeatS ?? null;
    this.staleMs = options.staleMs ?? STALE_MS;
    this.path = options.path ?? null;
    this.seq = null;
    this.socket = null;
    this.attempts = 0;
    this.awaitingSnapshot = false;
    this.lastMessageAt = Date.now();
    this.startedAt = Date.now();
    this.stopped = false;
    this.online = null;
    this.watch = setInterval(() => this.check(), Math.min(1000, this.staleMs / 8));
  }

  /** Offline when closed or silent too long; a silent socket (a dead network, no close) is replaced. */
  check() {
    const now = Date.now();
    this.setOnline(this.socket !== null && now - this.lastMessageAt < this.staleMs);
    if (this.socket !== null && !this.stopped && now - Math.max(this.lastMessageAt, this.startedAt) >= this.staleMs) {
      const dead = this.socket;
      this.socket = null; // its late messages and its close are ignored from now on
      dead.close();
      this.start();
    }
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams();
    const t = this.tokenFn ? this.tokenFn() : null;
    if (t) q.set("token", t);
    if (this.seq !== null) q.set("since", String(this.seq));
    if (this.heartbeatS !== null) q.set("heartbeat", String(this.heartbeatS));
    const query = q.toString();
    const path = this.path ?? `/ws/halls/${encodeURIComponent(this.hall)}/events`;
    return `${proto}//${location.host}${path}${query ? `?${query}` : ""}`;
  }

  setOnline(value) {
    if (value === this.online) return;
    this.online = value;
    if (this.h.onStatus) this.h.onStatus(value);
  }

  start() {
    if (this.stopped) return;
    this.startedAt = Date.now();
    const ws = new WebSocket(this.url());
    this.socket = ws;
    this.awaitingSnapshot = false;
    ws.onopen = () => {
      if (this.socket === ws && this.h.onOpen) this.h.onOpen();
    };
    ws.onmessage = (e) => {
      if (this.socket === ws) this.receive(e.data);
    };
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.setOnline(false);
      if (this.stopped) return;
      let delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
      if (REFUSED.has(e.code)) {
        if (this.h.onRefused) this.h.onRefused(e.code);
        if (this.refusedRetryMs === null) return; // the token or the hall is wrong: retrying will not help
        delay = this.refusedRetryMs;
      }
      this.attempts += 1;
      setTimeout(() => this.start(), delay * (0.8 + Math.random() * 0.4));
    };
    ws.onerror = () => {}; // onclose follows
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watch);
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  /** Ask for a fresh snapshot on this connection; events are ignored until it comes. */
  resync() {
    if (this.awaitingSnapshot || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    this.awaitingSnapshot = true;
    this.socket.send(JSON.stringify({ type: "snapshot" }));
  }

  receive(raw) {
    this.lastMessageAt = Date.now();
    this.attempts = 0;
    this.setOnline(true);
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (msg.type === "snapshot") {
      this.awaitingSnapshot = false;
      this.seq = msg.seq;
      if (this.h.onSnapshot) this.h.onSnapshot(msg);
      return;
    }
    if (msg.type === "heartbeat") {
      if (this.seq !== null && msg.seq > this.seq) this.resync(); // something was missed
      return;
    }
    if (msg.type === "resync") {
      this.socket.close(); // reconnect and resume with since
      return;
    }
    if (this.seq === null || this.awaitingSnapshot || typeof msg.seq !== "number" || msg.seq <= this.seq) return;
    if (msg.seq > this.seq + 1) {
      this.resync();
      return;
    }
    this.seq = msg.seq;
    if (this.h.onEvent) this.h.onEvent(msg);
  }
}

// The hall event stream for staff pages: snapshot on connect, resume with ?since=seq after a drop,
// a fresh snapshot on a gap, reconnect with backoff, a "connection lost" state after silence.
// The staff token goes as ?token= so the server limits the stream to the clerk's own hall.

const STALE_MS = 40000;
const BACKOFF_MIN_MS = 300;
const BACKOFF_MAX_MS = 5000;

export class HallStream {
  /**
   * @param {string} hall
   * @param {() => string|null} tokenFn current staff token
   * @param {{onSnapshot?: Function, onEvent?: Function, onStatus?: Function, onRefused?: Function}} handlers
   */
  constructor(hall, tokenFn, handlers) {
    this.hall = hall;
    this.tokenFn = tokenFn;
    this.h = handlers;
    this.seq = null;
    this.socket = null;
    this.attempts = 0;
    this.awaitingSnapshot = false;
    this.lastMessageAt = Date.now();
    this.stopped = false;
    this.online = null;
    this.watch = setInterval(() => this.setOnline(Date.now() - this.lastMessageAt < STALE_MS && this.socket !== null), 1000);
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams();
    const t = this.tokenFn();
    if (t) q.set("token", t);
    if (this.seq !== null) q.set("since", String(this.seq));
    return `${proto}//${location.host}/ws/halls/${encodeURIComponent(this.hall)}/events?${q}`;
  }

  setOnline(value) {
    if (value === this.online) return;
    this.online = value;
    if (this.h.onStatus) this.h.onStatus(value);
  }

  start() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url());
    this.socket = ws;
    this.awaitingSnapshot = false;
    ws.onmessage = (e) => {
      if (this.socket === ws) this.receive(e.data);
    };
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.setOnline(false);
      if (this.stopped) return;
      if (e.code === 4401 || e.code === 4403 || e.code === 4404) {
        if (this.h.onRefused) this.h.onRefused(e.code);
        return; // the token or the hall is wrong: retrying will not help
      }
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
      this.attempts += 1;
      setTimeout(() => this.start(), base * (0.8 + Math.random() * 0.4));
    };
    ws.onerror = () => {}; // onclose follows
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watch);
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  askSnapshot() {
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
      if (this.seq !== null && msg.seq > this.seq) this.askSnapshot(); // something was missed
      return;
    }
    if (msg.type === "resync") {
      this.socket.close(); // reconnect and resume with since
      return;
    }
    if (this.seq === null || this.awaitingSnapshot || typeof msg.seq !== "number" || msg.seq <= this.seq) return;
    if (msg.seq > this.seq + 1) {
      this.askSnapshot();
      return;
    }
    this.seq = msg.seq;
    if (this.h.onEvent) this.h.onEvent(msg);
  }
}

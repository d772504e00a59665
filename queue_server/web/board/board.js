// Web board of a service hall: lobby board (/board/{hall}) or window display (/board/{hall}/window/{n}).
// Plain ES module, no framework. Subscribes to the hall event stream, keeps the board state in the
// snapshot's shape with a small reducer, and renders with textContent only (data is never parsed as HTML).

const RECENT_CALLS = 10;
const STALE_MS = 40000; // no event or heartbeat for this long: show "connection lost"
const FLASH_MS = 6000; // the newest call flashes this long
const BACKOFF_MIN_MS = 300;
const BACKOFF_MAX_MS = 5000;
const LIVE = new Set(["called", "serving"]); // statuses that keep a ticket at its window

// ---------------------------------------------------------------- reducer (pure: returns a new state)

/** The ticket as the board keeps it: the fields of the server's `brief`. */
function brief(d) {
  const t = { id: d.id, number: d.number, queue: d.queue, lane: d.lane, status: d.status };
  if (d.window !== undefined && d.window !== null) t.window = d.window;
  return t;
}

/** Apply one event message to a board state (the snapshot's shape); returns the new state. */
export function apply(state, msg) {
  if (msg.type === "snapshot") return structuredClone(msg.data);
  if (state === null) return state;
  const s = structuredClone(state);
  const d = msg.data || {};
  if (Array.isArray(d.queues)) {
    for (const q of d.queues) {
      const mine = s.queues.find((x) => x.code === q.code);
      if (mine) {
        mine.waiting = q.waiting;
        mine.estimated_wait_s = q.estimated_wait_s;
      }
    }
  }
  if (msg.type === "window.status") {
    const w = s.windows.find((x) => x.number === d.number);
    if (w) {
      for (const k of ["name", "name_en", "queues", "status", "reason"]) if (k in d) w[k] = d[k];
    }
  } else if (msg.type === "notice") {
    s.notice = d.text || "";
  } else if (msg.type.startsWith("ticket.") && d.id !== undefined) {
    const t = brief(d);
    for (const w of s.windows) {
      if (w.current && w.current.id === t.id) w.current = null;
    }
    if (LIVE.has(t.status) && t.window !== undefined) {
      const w = s.windows.find((x) => x.number === t.window);
      if (w) w.current = t;
    }
    if ((msg.type === "ticket.called" || msg.type === "ticket.recalled") && t.window !== undefined) {
      s.recent_calls = [{ ...t, at: msg.at }, ...s.recent_calls.filter((c) => c.id !== t.id)].slice(0, RECENT_CALLS);
    } else {
      for (const c of s.recent_calls) if (c.id === t.id) c.status = t.status;
    }
  }
  return s;
}

// ---------------------------------------------------------------- page

const m = location.pathname.match(/^\/board\/([^/]+)(?:\/window\/(\d+))?\/?$/);
const params = new URLSearchParams(location.search);
const HALL = m ? decodeURIComponent(m[1]) : params.get("hall") || "";
const winParam = (m && m[2]) || params.get("window");
const WINDOW = winParam ? Number(winParam) : null;

const $ = (id) => document.getElementById(id);
let state = null;
let lastSeq = null;
let lastMessageAt = Date.now();
let flashUntil = 0;
let flashId = null;
let awaitingSnapshot = false;
let attempts = 0;
let socket = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function minutes(s) {
  return Math.max(1, Math.ceil((s || 0) / 60));
}

function windowLabel(w) {
  return w && w.name ? w.name : "";
}

function renderHeader() {
  const h = state.hall || {};
  $("hall-name").textContent = h.name || "";
  $("hall-name-en").textContent = h.name_en || "";
  document.title = WINDOW !== null ? `${WINDOW} 号窗口 · ${h.name || ""}` : `${h.name || ""} · 叫号屏`;
}

function callRow(c, big) {
  const row = el(big ? "div" : "li", big ? "call call-big" : "call");
  row.dataset.number = c.number;
  row.dataset.window = String(c.window);
  row.append(el("span", "call-number", c.number));
  const where = el("span", "call-window");
  where.append(el("span", "zh", `请到 ${c.window} 号窗口`), el("span", "en", `Window ${c.window}`));
  row.append(where);
  return row;
}

function renderLobby() {
  const latest = $("latest");
  const list = $("calls");
  const calls = state.recent_calls || [];
  if (calls.length === 0) {
    const idle = el("div", "call call-big call-idle");
    idle.append(el("span", "zh", "请留意叫号"), el("span", "en", "Please wait to be called"));
    latest.replaceChildren(idle);
  } else {
    const big = callRow(calls[0], true);
    if (flashId === calls[0].id && Date.now() < flashUntil) big.classList.add("flash");
    latest.replaceChildren(big);
  }
  list.replaceChildren(...calls.slice(1, 7).map((c) => callRow(c, false)));

  const queues = $("queues");
  queues.replaceChildren(
    ...(state.queues || []).map((q) => {
      const li = el("li", "queue");
      li.dataset.queue = q.code;
      const name = el("span", "queue-name");
      name.append(el("span", "zh", q.name), el("span", "en", q.name_en || ""));
      const wait = el("span", "queue-waiting");
      wait.append(el("span", "zh", `等候 ${q.waiting} 人`), el("span", "en", `${q.waiting} waiting`));
      const est = el("span", "queue-estimate");
      if (q.waiting > 0) {
        est.append(el("span", "zh", `约 ${minutes(q.estimated_wait_s)} 分钟`), el("span", "en", `~${minutes(q.estimated_wait_s)} min`));
      } else {
        est.append(el("span", "zh", "无需等候"), el("span", "en", "No wait"));
      }
      li.append(name, wait, est);
      return li;
    }),
  );

  const stopped = (state.windows || []).filter((w) => w.status !== "open");
  $("paused-box").hidden = stopped.length === 0;
  $("paused").replaceChildren(
    ...stopped.map((w) => {
      const li = el("li", "paused-window");
      li.dataset.window = String(w.number);
      li.append(el("span", "paused-number", `${w.number} 号窗口`));
      li.append(el("span", "paused-text", w.status === "paused" ? "暂停服务" : "未开放"));
      li.append(el("span", "en", w.status === "paused" ? "Paused" : "Closed"));
      if (w.reason) li.append(el("span", "paused-reason", w.reason));
      return li;
    }),
  );
}

function renderWindow() {
  const w = (state.windows || []).find((x) => x.number === WINDOW);
  $("win-title").replaceChildren(el("span", "zh", `${WINDOW} 号窗口`), el("span", "en", `Window ${WINDOW}`));
  const en = w && w.name_en !== "Window" ? w.name_en : ""; // the default English name says nothing more
  $("win-name").textContent = w ? [windowLabel(w), en].filter(Boolean).join(" · ") : "";
  const ticket = $("win-ticket");
  const label = $("win-label");
  const status = $("win-status");
  const app = $("app");
  app.classList.toggle("paused", !!w && w.status !== "open");
  if (!w) {
    ticket.textContent = "—";
    label.textContent = "";
    status.textContent = "没有这个窗口 / No such window";
  } else if (w.status !== "open") {
    ticket.textContent = w.current ? w.current.number : "";
    label.textContent = "";
    status.replaceChildren(
      el("span", "zh", w.status === "paused" ? "暂停服务" : "未开放"),
      el("span", "en", w.status === "paused" ? "Service paused" : "Closed"),
    );
    if (w.reason) status.append(el("span", "reason", w.reason));
  } else if (w.current) {
    label.replaceChildren(
      el("span", "zh", w.current.status === "serving" ? "正在办理" : "请到本窗口"),
      el("span", "en", w.current.status === "serving" ? "Now serving" : "Please come to this window"),
    );
    ticket.textContent = w.current.number;
    status.textContent = "";
  } else {
    label.replaceChildren(el("span", "zh", "请稍候"), el("span", "en", "Please wait"));
    ticket.textContent = "—";
    status.textContent = "";
  }
  ticket.dataset.number = w && w.current ? w.current.number : "";
}

let shownNotice = null;

function renderNotice(force = false) {
  const text = state.notice || "";
  if (text === shownNotice && !force) return; // leave a scrolling line alone
  shownNotice = text;
  const ticker = $("ticker");
  const track = ticker.firstElementChild;
  $("notice").textContent = text;
  ticker.parentElement.classList.toggle("empty", text === "");
  // Scroll only a line longer than the screen, at a constant speed whatever its length.
  ticker.classList.remove("scroll");
  $("notice-copy").textContent = "";
  if ($("notice").offsetWidth > ticker.clientWidth) {
    ticker.classList.add("scroll");
    $("notice-copy").textContent = text;
    track.style.animationDuration = `${Math.max(10, Math.round(track.offsetWidth / 2 / 120))}s`;
  }
}

function render() {
  if (state === null) return;
  renderHeader();
  if (WINDOW !== null) renderWindow();
  else renderLobby();
  renderNotice();
  document.body.dataset.seq = String(lastSeq);
}

function tickClock() {
  const tz = state && state.hall && state.hall.timezone;
  let text;
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz || undefined,
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date());
    const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
    text = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  } catch {
    text = new Date().toLocaleString();
  }
  $("clock").textContent = text;
}

// ---------------------------------------------------------------- connection

function streamUrl() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const q = lastSeq !== null && state !== null ? `?since=${lastSeq}` : "";
  return `${proto}//${location.host}/ws/halls/${encodeURIComponent(HALL)}/events${q}`;
}

function askSnapshot() {
  if (awaitingSnapshot || !socket || socket.readyState !== WebSocket.OPEN) return;
  awaitingSnapshot = true;
  socket.send(JSON.stringify({ type: "snapshot" }));
}

function onMessage(raw) {
  lastMessageAt = Date.now();
  attempts = 0;
  $("offline").hidden = true;
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    return;
  }
  if (msg.type === "snapshot") {
    awaitingSnapshot = false;
    state = apply(state, msg);
    lastSeq = msg.seq;
    render();
    return;
  }
  if (msg.type === "heartbeat") {
    if (lastSeq !== null && msg.seq > lastSeq) askSnapshot(); // we missed something
    return;
  }
  if (msg.type === "resync") {
    socket.close(); // reconnect and resume with since
    return;
  }
  if (state === null || awaitingSnapshot || typeof msg.seq !== "number") return;
  if (msg.seq <= lastSeq) return; // already applied
  if (msg.seq > lastSeq + 1) {
    askSnapshot(); // a gap: the snapshot replaces what we have
    return;
  }
  state = apply(state, msg);
  lastSeq = msg.seq;
  if ((msg.type === "ticket.called" || msg.type === "ticket.recalled") && msg.data.window !== undefined) {
    flashId = msg.data.id;
    flashUntil = Date.now() + FLASH_MS;
    setTimeout(render, FLASH_MS + 50);
  }
  render();
}

function connect() {
  const ws = new WebSocket(streamUrl());
  socket = ws;
  awaitingSnapshot = false;
  ws.onmessage = (e) => {
    if (socket === ws) onMessage(e.data);
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    socket = null;
    document.body.dataset.connected = "false";
    // 4404: no such hall; 4401/4403: token trouble. Keep trying, but slowly.
    const slow = e.code === 4404 || e.code === 4401 || e.code === 4403;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempts);
    attempts += 1;
    const delay = (slow ? 30000 : base) * (0.8 + Math.random() * 0.4);
    setTimeout(connect, delay);
  };
  ws.onopen = () => {
    document.body.dataset.connected = "true";
  };
  ws.onerror = () => {}; // onclose follows and schedules the reconnect
}

function watchdog() {
  if (Date.now() - lastMessageAt > STALE_MS) $("offline").hidden = false;
}

function start() {
  if (WINDOW !== null) {
    $("app").className = "mode-window";
    $("lobby").hidden = true;
    $("window").hidden = false;
  }
  tickClock();
  setInterval(tickClock, 1000);
  addEventListener("resize", () => state && renderNotice(true));
  setInterval(watchdog, 1000);
  connect();
}

start();

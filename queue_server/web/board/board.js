// Web board of a service hall: lobby board (/board/{hall}) or window display (/board/{hall}/window/{n}).
// Plain ES module, no framework. Follows the hall event stream (the shared follower), folds it with the board
// reducer (reducer.js, the same specification as the Kivy board's) and renders with textContent only (data is
// never parsed as HTML).

import { HallStream } from "/static/shared/stream.js";
import { SnapshotNeeded, apply, fromSnapshot, snapshotView } from "./reducer.js";

const FLASH_MS = 6000; // the newest call flashes this long
const REFUSED_RETRY_MS = 30000; // a wrong hall or token: keep trying, slowly

// ---------------------------------------------------------------- page

const m = location.pathname.match(/^\/board\/([^/]+)(?:\/window\/(\d+))?\/?$/);
const params = new URLSearchParams(location.search);
const HALL = m ? decodeURIComponent(m[1]) : params.get("hall") || "";
const winParam = (m && m[2]) || params.get("window");
const WINDOW = winParam ? Number(winParam) : null;

const $ = (id) => document.getElementById(id);
let board = null; // the reducer's state
let state = null; // what it shows: the snapshot-shaped view of `board`
let flashUntil = 0;
let flashId = null;
let stream = null;

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
  document.body.dataset.seq = String(board.seq);
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

function onSnapshot(msg) {
  board = fromSnapshot(msg.seq, msg.data);
  state = snapshotView(board);
  render();
}

function onEvent(msg) {
  if (board === null) return;
  try {
    board = apply(board, msg);
  } catch (e) {
    if (!(e instanceof SnapshotNeeded)) throw e;
    stream.resync(); // a call left the list and the one that moves up is not known here
    return;
  }
  state = snapshotView(board);
  const call = board.lastCall;
  if (call && call.seq === msg.seq) {
    flashId = call.id;
    flashUntil = Date.now() + FLASH_MS;
    setTimeout(render, FLASH_MS + 50);
  }
  render();
}

function onStatus(online) {
  $("offline").hidden = online;
  document.body.dataset.connected = String(online);
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
  stream = new HallStream(HALL, null, { onSnapshot, onEvent, onStatus }, { refusedRetryMs: REFUSED_RETRY_MS });
  stream.start();
}

start();

// Web board of a service hall: lobby board (/board/{hall}) or window display (/board/{hall}/window/{n}).
// Plain ES module, no framework. Follows the hall event stream (the shared follower), folds it with the board
// reducer (reducer.js, the same specification as the Kivy board's) and renders with textContent only (data is
// never parsed as HTML).

import { HallStream } from "/static/shared/stream.js";
import { SnapshotNeeded, apply, fromSnapshot, snapshotView } from "./reducer.js";
import { line, loadLanguages, secondLanguages, zh } from "./strings.js";

const FLASH_MS = 6000; // the newest call flashes this long
const REFUSED_RETRY_MS = 30000; // a wrong hall or token: keep trying, slowly
const HEARTBEAT_S = 1.5; // the server heartbeats this often on a quiet stream …
const STALE_MS = 4000; // … so this long without a message means the connection is gone ("连接中断" within 5 s)
const HEALTH_MS = 60000; // report the board's health this often (the supervisor counts 3 min of silence as offline)
const MAX_CALLS = 6; // earlier calls listed under the newest, as many as fit

// ---------------------------------------------------------------- page

const m = location.pathname.match(/^\/board\/([^/]+)(?:\/window\/(\d+))?\/?$/);
const params = new URLSearchParams(location.search);
const HALL = m ? decodeURIComponent(m[1]) : params.get("hall") || "";
const winParam = (m && m[2]) || params.get("window");
const WINDOW = winParam ? Number(winParam) : null;
// The waiting list shows as many rows as fit and turns its pages every PAGE_MS (?page_s=, tests use a short one).
// ?page_s=0 stops the turning and ?page=N starts on page N (screenshots).
const PAGE_S = params.has("page_s") ? Number(params.get("page_s")) : 8;
const PAGE_MS = PAGE_S > 0 ? Math.max(200, 1000 * PAGE_S) : 0;
// The second line (Chinese is the first) goes round the hall's languages every LANG_MS (?lang_s=; 0 stops it),
// or stays in ?lang= (screenshots).
const LANG_S = params.has("lang_s") ? Number(params.get("lang_s")) : 8;
const LANG_MS = LANG_S > 0 ? Math.max(200, 1000 * LANG_S) : 0;
const PINNED = params.get("lang");
// A display's device token (?token=, kept for the tab and taken out of the address bar): it follows the
// stream as that device and reports the board's health, so the supervisor sees the board as a device.
if (params.get("token")) {
  sessionStorage.setItem("boardToken", params.get("token"));
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : ""));
}
const TOKEN = sessionStorage.getItem("boardToken");

const $ = (id) => document.getElementById(id);
let board = null; // the reducer's state
let state = null; // what it shows: the snapshot-shaped view of `board`
let flashUntil = 0;
let flashId = null;
let stream = null;
let page = Math.max(0, (Number(params.get("page")) || 1) - 1); // the waiting list's page on screen
let pages = [[]]; // rows (elements) of each page
let online = false;
let lang = PINNED || "en"; // the second line's language now
let langTurn = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

/** A second-line text: in the language on screen now (its `lang` picks the Noto CJK face for ko and ja). */
function en(text) {
  const e = el("span", "en", text);
  e.lang = lang;
  return e;
}

function minutes(s) {
  return Math.max(1, Math.ceil((s || 0) / 60));
}

/** The window's own name (综合受理窗口) in `lng` where the hall names it in its languages (config `names`). */
function windowName(n, lng) {
  const names = ((state && state.hall && state.hall.window_names) || {})[String(n)];
  return names ? names[lng] || names.en || "" : "";
}

/** The next of the hall's second languages (a pinned ?lang= stays). */
function turnLanguage() {
  if (PINNED || state === null) return;
  const langs = secondLanguages(state.hall);
  langTurn = (langTurn + 1) % langs.length;
  if (langs[langTurn] !== lang) {
    lang = langs[langTurn];
    render();
  }
}

function renderHeader() {
  const h = state.hall || {};
  const langs = secondLanguages(h);
  if (!PINNED && !langs.includes(lang)) lang = langs[(langTurn = 0)];
  document.body.dataset.lang = lang;
  for (const node of document.querySelectorAll("[data-line]")) {
    node.textContent = line(node.dataset.line, lang);
    node.lang = lang;
  }
  $("hall-name").textContent = h.name || "";
  $("hall-name-en").textContent = h.name_en || "";
  document.title = WINDOW !== null ? `${zh("window", { n: WINDOW })} · ${h.name || ""}` : `${h.name || ""} · 叫号屏`;
}

function callRow(c, big) {
  const row = el(big ? "div" : "li", big ? "call call-big" : "call");
  row.dataset.number = c.number;
  row.dataset.window = String(c.window);
  row.append(el("span", "call-number", c.number));
  const where = el("span", "call-window");
  if (big) {
    where.append(el("span", "zh", zh("go_window", { n: c.window })), en(line("go_window", lang, { n: c.window })));
    // the window's own name under "Window N", where the hall names its windows in its languages: Chinese, then
    // the second line's language (shown where it fits: see fitName)
    if (windowName(c.window, "zh")) {
      const name = el("span", "call-window-name");
      name.append(el("span", "wname-zh", windowName(c.window, "zh")));
      if (line("go_window", lang)) {
        const second = el("span", "wname-second", windowName(c.window, lang));
        second.lang = lang;
        name.append(second);
      }
      where.append(name);
    }
  } else {
    const word = el("span", "win-word");
    const second = lang === "en" ? line("window", lang, { n: c.window }) : line("window_word", lang);
    word.append(el("span", "zh", zh("window_word")), en(second));
    where.append(el("span", "win-no", String(c.window)), word);
  }
  row.append(where);
  return row;
}

function queueRow(q) {
  const li = el("li", "row queue");
  li.dataset.queue = q.code;
  const name = el("span", "queue-name");
  name.append(el("span", "zh", q.name), en((q.names && q.names[lang]) || q.name_en || ""));
  const wait = el("span", "queue-waiting");
  const est = el("span", "queue-estimate");
  if (q.waiting > 0) {
    const m = minutes(q.estimated_wait_s);
    wait.append(el("span", "zh", zh("waiting_n", { n: q.waiting })), en(line("waiting_n", lang, { n: q.waiting })));
    est.append(el("span", "zh", zh("about_min", { m })), en(line("about_min", lang, { m })));
  } else {
    wait.classList.add("none");
    wait.append(el("span", "zh", zh("nobody")), en(line("nobody", lang)));
    est.append(el("span", "zh", zh("no_wait")), en(line("no_wait", lang)));
  }
  li.append(name, wait, est);
  return li;
}

function pausedRow(w) {
  const li = el("li", "row paused-window");
  li.dataset.window = String(w.number);
  const paused = w.status === "paused";
  const name = el("span", "queue-name");
  name.append(el("span", "zh", zh("window", { n: w.number })), en(line("window", lang, { n: w.number })));
  const text = el("span", "paused-text");
  if (paused) text.append(el("span", "zh", zh("paused")), en(line("paused", lang)));
  else text.append(el("span", "zh", zh("closed")), en(line("closed", lang)));
  const reason = el("span", "paused-reason");
  reason.append(el("span", "zh", w.reason || ""));
  li.append(name, text, reason);
  return li;
}

/** Hide the earlier calls that do not fit under the newest one, whole rows only. */
function fitCalls(list) {
  const bottom = list.getBoundingClientRect().bottom;
  let full = false;
  for (const row of list.children) {
    row.hidden = false;
    full = full || row.getBoundingClientRect().bottom > bottom + 0.5;
    row.hidden = full;
  }
}

/** The newest call's window name: its second-language half, then all of it, leave the screen where it does not
 * fit the width or where it would leave fewer than two earlier calls under the newest (small screens). */
function fitName(latest, list) {
  const name = latest.querySelector(".call-window-name");
  if (!name) return;
  const second = name.querySelector(".wname-second");
  if (second && name.scrollWidth > name.clientWidth + 0.5) second.hidden = true;
  if (name.scrollWidth > name.clientWidth + 0.5) name.hidden = true;
  const shown = () => [...list.children].filter((r) => !r.hidden).length;
  if (!name.hidden && shown() < Math.min(2, list.children.length)) {
    name.hidden = true;
    fitCalls(list);
  }
}

/** Split the rows into pages of whole rows that fit the list's height. */
function paginate(list) {
  const rows = [...list.children];
  rows.forEach((r) => { r.hidden = false; });
  const room = list.clientHeight;
  const out = [[]];
  let used = 0;
  for (const r of rows) {
    const h = r.getBoundingClientRect().height;
    if (used + h > room + 0.5 && out[out.length - 1].length > 0) {
      out.push([]);
      used = 0;
    }
    out[out.length - 1].push(r);
    used += h;
  }
  return out;
}

function showPage() {
  page = pages.length ? page % pages.length : 0;
  pages.forEach((rows, i) => rows.forEach((r) => { r.hidden = i !== page; }));
  const pager = $("pager");
  pager.hidden = pages.length < 2;
  pager.replaceChildren(
    el("span", "pager-text", `${page + 1}/${pages.length}`),
    ...pages.map((_, i) => el("span", i === page ? "dot on" : "dot", i === page ? "●" : "○")),
  );
  document.body.dataset.page = `${page + 1}/${pages.length}`;
}

function turnPage() {
  if (WINDOW !== null || pages.length < 2) return;
  page = (page + 1) % pages.length;
  showPage();
}

function renderLobby() {
  const latest = $("latest");
  const list = $("calls");
  const calls = state.recent_calls || [];
  if (calls.length === 0) {
    const idle = el("div", "call call-big call-idle");
    idle.append(el("span", "zh", zh("idle")), en(line("idle", lang)));
    latest.replaceChildren(idle);
  } else {
    const big = callRow(calls[0], true);
    if (flashId === calls[0].id && Date.now() < flashUntil) big.classList.add("flash");
    latest.replaceChildren(big);
  }
  list.replaceChildren(...calls.slice(1, 1 + MAX_CALLS).map((c) => callRow(c, false)));
  fitCalls(list);
  fitName(latest, list);

  const stopped = (state.windows || []).filter((w) => w.status !== "open");
  const rows = $("rows");
  rows.replaceChildren(...(state.queues || []).map(queueRow), ...stopped.map(pausedRow));
  pages = paginate(rows);
  showPage();
}

function renderWindow() {
  const w = (state.windows || []).find((x) => x.number === WINDOW);
  $("win-title").replaceChildren(el("span", "zh", zh("window", { n: WINDOW })), en(line("window", lang, { n: WINDOW })));
  // the window's name: Chinese, then in the second line's language where the hall names it in its languages
  // (else its English name, unless that is the default "Window", which says nothing more)
  const nameEn = w ? windowName(WINDOW, lang) || (w.name_en !== "Window" ? w.name_en : "") : "";
  const second = el("span", "wname-second", nameEn);
  second.lang = lang;
  $("win-name").replaceChildren(el("span", "wname-zh", w ? w.name : ""), ...(nameEn ? [" · ", second] : []));
  const ticket = $("win-ticket");
  const label = $("win-label");
  const status = $("win-status");
  const app = $("app");
  app.classList.toggle("paused", !!w && w.status !== "open");
  if (!w) {
    ticket.textContent = "—";
    label.textContent = "";
    status.textContent = zh("no_window") + " / " + line("no_window", lang);
  } else if (w.status !== "open") {
    ticket.textContent = w.current ? w.current.number : "";
    label.textContent = "";
    const key = w.status === "paused" ? "paused" : "closed"; // both in the catalogue: board/paused, board/closed
    status.replaceChildren(el("span", "zh", zh(key)), en(line(key, lang)));
    if (w.reason) status.append(el("span", "reason", w.reason));
  } else if (w.current) {
    if (w.current.status === "serving") label.replaceChildren(el("span", "zh", zh("serving")), en(line("serving", lang)));
    else label.replaceChildren(el("span", "zh", zh("come")), en(line("come", lang)));
    ticket.textContent = w.current.number;
    status.textContent = "";
  } else {
    label.replaceChildren(el("span", "zh", zh("wait")), en(line("wait", lang)));
    ticket.textContent = "—";
    status.textContent = "";
  }
  ticket.dataset.number = w && w.current ? w.current.number : "";
}

let shownNotice = null;

/** The notice as staff wrote it, without a leading "通知：" / "Notice:" (the footer has its own label). */
export function noticeText(raw) {
  return String(raw || "").replace(/^\s*(?:通知|公告|notice)\s*[:：]?\s*/i, "").trim();
}

function renderNotice(force = false) {
  const text = noticeText(state.notice);
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
  tickClock(); // in the hall's timezone from the first snapshot on
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
    const time = `${p.hour}:${p.minute}:${p.second}`;
    text = innerHeight > innerWidth ? time : `${p.year}-${p.month}-${p.day} ${time}`; // portrait: no room for the date
  } catch {
    text = new Date().toLocaleString();
  }
  $("clock").textContent = text;
}

// ---------------------------------------------------------------- connection

function onSnapshot(msg) {
  board = fromSnapshot(msg.seq, msg.data);
  state = snapshotView(board);
  // the second languages' texts (a snapshot comes at every (re)connection: one that failed is asked again)
  loadLanguages(state.hall).then(render);
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

function onStatus(value) {
  const back = value && !online;
  online = value;
  $("offline").hidden = value;
  document.body.dataset.connected = String(value);
  if (back) reportHealth();
}

/** Tell the server this board is alive (needs a display token): POST /api/v1/devices/health. */
async function reportHealth() {
  if (!TOKEN) return;
  const what = WINDOW !== null ? `window ${WINDOW} display` : "lobby board";
  const detail = `web ${what} ${innerWidth}×${innerHeight}` + (online ? "" : ", event stream lost");
  try {
    const r = await fetch("/api/v1/devices/health", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ status: online ? "ok" : "offline", detail }),
    });
    document.body.dataset.health = String(r.status);
  } catch {
    document.body.dataset.health = "unreachable";
  }
}

function start() {
  if (WINDOW !== null) {
    $("app").className = "mode-window";
    $("lobby").hidden = true;
    $("window").hidden = false;
  }
  tickClock();
  setInterval(tickClock, 1000);
  addEventListener("resize", () => {
    if (state === null) return;
    render();
    renderNotice(true);
  });
  if (PAGE_MS > 0) setInterval(turnPage, PAGE_MS);
  if (LANG_MS > 0) setInterval(turnLanguage, LANG_MS);
  setInterval(reportHealth, HEALTH_MS);
  const options = { refusedRetryMs: REFUSED_RETRY_MS, heartbeatS: HEARTBEAT_S, staleMs: STALE_MS };
  stream = new HallStream(HALL, () => TOKEN, { onSnapshot, onEvent, onStatus }, options);
  stream.start();
}

start();

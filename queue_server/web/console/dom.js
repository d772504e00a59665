// Render helpers for the staff pages: build DOM with textContent only (data is never parsed as HTML),
// format durations, and tick every "time since" on the page once a second.

/** Create an element; children may be nodes or strings (set as text, never as markup). */
export function el(tag, cls, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** A two-language label: Chinese first, English smaller after it. */
export function bi(pair, cls = "bi") {
  const [zh, en] = pair;
  return el("span", cls, el("span", "zh", zh), el("span", "en", en));
}

export const $ = (id) => document.getElementById(id);

/** Seconds as m:ss, or h:mm:ss past an hour. */
export function duration(s) {
  const t = Math.max(0, Math.floor(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** Whole minutes, at least 1, for estimates. */
export function minutes(s) {
  return Math.max(1, Math.ceil((s || 0) / 60));
}

// The server's clock, learnt from each read model's `now`: durations agree with the server's.
let skewMs = 0;

/** Remember the server's time from an ISO string. */
export function syncClock(iso) {
  const t = Date.parse(iso);
  if (!Number.isNaN(t)) skewMs = t - Date.now();
}

/** Now as the server counts it, in ms. */
export function serverNow() {
  return Date.now() + skewMs;
}

/** Seconds from an ISO instant until now (server clock). */
export function since(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : (serverNow() - t) / 1000;
}

/** An element whose text is the live time since `iso` (m:ss), updated by `tick`. */
export function ticking(iso, cls = "ticking") {
  const e = el("span", cls, duration(since(iso)));
  e.dataset.since = iso;
  return e;
}

/** HH:MM of an ISO instant in the hall's timezone. */
export function clockTime(iso, tz) {
  if (!iso) return "";
  try {
    return new Intl.DateTimeFormat("zh-CN", { timeZone: tz || undefined, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
  } catch {
    return iso.slice(11, 16);
  }
}

const tickers = new Set();

/** Run `fn` every second along with the ticking durations. */
export function everySecond(fn) {
  tickers.add(fn);
}

/** Update every ticking duration and run the per-second callbacks. */
export function tick() {
  for (const e of document.querySelectorAll("[data-since]")) e.textContent = duration(since(e.dataset.since));
  for (const fn of tickers) fn();
}

/** The hall's wall clock as YYYY-MM-DD HH:MM:SS. */
export function wallClock(tz) {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz || undefined, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(serverNow()));
    const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  } catch {
    return new Date().toLocaleString();
  }
}

/** Show a message in the page's status line for a while (kind: "error" | "ok"). */
export function notify(text, kind = "error") {
  const box = $("flash");
  if (!box) return;
  box.textContent = text;
  box.className = `flash ${kind}`;
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 3000);
}

/** Run `fn` soon after a call, at most once per `ms`; calls in between are folded into one run. */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, Math.max(0, last + ms - Date.now()));
  };
}

// The window's evaluation pad (评价器, touch mode of the window display). After this window completes a
// ticket it asks the citizen about that service until it is rated or ASK_S pass, whatever the clerk does
// next (calling the next number does not dismiss it; a later completion waits its turn). One tap on a face
// records the rating for the ticket named in the question; the reasons are optional afterwards. The second line
// of every text is in the ticket's language when the hall offers one besides Chinese and English (the server's
// `lang`), else English; the pad goes back to English when idle.
import { HallStream } from "/static/shared/stream.js";
import { both, label, secondLang, served, setSecond, stars, t } from "./strings.js";

const ASK_S = 60; // the question stays this long after the completion unless answered
const REASONS_S = 30; // after the tap: this long to add optional reasons
const THANKS_MS = 5000;
const GOOD_REASONS = ["fast", "friendly", "clear", "once"];
const BAD_REASONS = ["slow", "attitude", "unclear", "repeat", "materials", "system"];

const m = location.pathname.match(/^\/pad\/([^/]+)\/window\/(\d+)\/?$/);
const HALL = m ? decodeURIComponent(m[1]) : "";
const WINDOW = m ? Number(m[2]) : 0;
const params = new URLSearchParams(location.search);
if (params.get("token")) {
  sessionStorage.setItem("padToken", params.get("token"));
  params.delete("token");
  history.replaceState(null, "", location.pathname + (params.toString() ? `?${params}` : ""));
}
const TOKEN = sessionStorage.getItem("padToken") || "";
const BASE = `/api/v1/halls/${encodeURIComponent(HALL)}`;

const $ = (id) => document.getElementById(id);
let catalogue = null;
let current = null; // the ticket asked about: {ticket_id, number}
let saved = null; // its rating once the tap was recorded: {id, level, followup_id}
let level = null;
let chosen = new Set();
let deadline = 0;
let sending = false;
let thanksTimer = null;

function bilingual(el, zh, en) {
  el.textContent = zh;
  const span = document.createElement("span");
  span.className = "en";
  span.lang = secondLang();
  span.textContent = en;
  el.append(span);
}

/** Every second line again, in the language now set. */
function relabel() {
  label();
  const name = t("window", { n: WINDOW });
  $("window-name").textContent = `${name.zh} · ${name.en}`;
  if (catalogue && current) {
    renderLevels();
    if (!$("reasons-box").hidden) renderReasons();
  }
  tick();
}

/** Speak `lang` on the second line (English for none), unless the question changed meanwhile. */
async function speak(lang, asked = current) {
  if (!(await setSecond(lang, () => current === asked))) return;
  document.body.dataset.second = secondLang();
  relabel();
}

/** The language of the ticket asked about, from the server when the event that asked did not say it. */
async function learnLanguage(asked) {
  let lang = null;
  try {
    const r = await fetch(`${BASE}/windows/${WINDOW}/evaluation`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (r.status === 200) {
      const p = await r.json();
      if (p.ticket_id === asked.ticket_id) lang = p.lang;
    }
  } catch {
    // English, as before the server answered
  }
  if (current === asked) speak(lang, asked);
}

function show(state) {
  if ((state === "idle" || state === "no-token") && secondLang() !== "en") speak(null, null); // no one to speak to
  document.body.dataset.state = state;
  for (const id of ["idle", "ask", "thanks", "no-token"]) $(id).hidden = id !== state;
}

function error(msg) {
  $("error").hidden = !msg;
  $("error").textContent = msg || "";
}

function renderLevels() {
  const box = $("levels");
  box.replaceChildren();
  for (const l of catalogue.levels) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.level = String(l.code);
    b.setAttribute("aria-pressed", String(level === l.code));
    b.disabled = saved !== null && saved.level !== l.code; // recorded: the tapped face stays lit
    const face = document.createElement("span");
    face.className = "face";
    face.textContent = stars(l.code);
    b.append(face);
    const text = served("level", l);
    const zh = document.createElement("span");
    zh.textContent = text.zh;
    b.append(zh);
    const en = document.createElement("span");
    en.className = "en";
    en.lang = secondLang();
    en.textContent = text.en;
    b.append(en);
    b.addEventListener("click", () => tap(l.code));
    box.append(b);
  }
}

function renderReasons() {
  const box = $("reasons");
  box.replaceChildren();
  const codes = level >= 4 ? GOOD_REASONS : BAD_REASONS;
  for (const r of catalogue.reasons.filter((x) => codes.includes(x.code))) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.reason = r.code;
    b.setAttribute("aria-pressed", String(chosen.has(r.code)));
    const text = served("reason", r);
    bilingual(b, text.zh, text.en);
    b.addEventListener("click", () => {
      chosen.has(r.code) ? chosen.delete(r.code) : chosen.add(r.code);
      deadline = Math.max(deadline, Date.now() + REASONS_S * 1000);
      renderReasons();
    });
    box.append(b);
  }
  $("reasons-box").hidden = false;
}

async function send(url, method, body) {
  return fetch(url, {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
}

/** One tap records the rating of the ticket in the question; the reasons may follow. */
async function tap(code) {
  if (!current || saved !== null || sending) return;
  sending = true;
  level = code;
  renderLevels();
  const asked = current;
  let r;
  let body = null;
  try {
    r = await send(`${BASE}/evaluations`, "POST", { ticket_id: asked.ticket_id, level: code, channel: "pad" });
    // Read the answer while still `sending`: the rating's own `evaluation.created` event can arrive between its
    // headers and its body, and would end the question as if rated elsewhere (onEvent) before `saved` is set.
    if (r.ok) body = await r.json();
  } catch {
    r = null;
  } finally {
    sending = false;
  }
  if (current !== asked) return;
  if (r === null || (!r.ok && r.status !== 409)) {
    level = null;
    renderLevels();
    error(r && (r.status === 401 || r.status === 403) ? both("forbidden") : both("failed"));
    return;
  }
  if (r.status === 409) {
    error(both("already"));
    finish(false);
    return;
  }
  error("");
  saved = body;
  deadline = Date.now() + REASONS_S * 1000;
  $("recorded").hidden = false;
  renderLevels();
  renderReasons();
}

/** The optional reasons, added to the rating already recorded. */
async function submitReasons() {
  if (!current || saved === null || sending) return;
  if (chosen.size) {
    sending = true;
    try {
      const r = await send(`${BASE}/evaluations/${saved.id}/reasons`, "POST", { reasons: [...chosen] });
      if (!r.ok) error(both("failed"));
    } catch {
      error(both("failed"));
    } finally {
      sending = false;
    }
  }
  finish(true);
}

function tick() {
  if (document.body.dataset.state !== "ask") return;
  const left = Math.ceil((deadline - Date.now()) / 1000);
  if (left <= 0) {
    finish(saved !== null);
    return;
  }
  $("countdown").textContent = both("countdown", { s: left });
}

function ask(ticket, seconds) {
  clearTimeout(thanksTimer);
  current = ticket;
  saved = null;
  level = null;
  chosen = new Set();
  error("");
  $("ask-number").textContent = ticket.number;
  $("ask").dataset.ticket = String(ticket.ticket_id);
  $("reasons-box").hidden = true;
  $("recorded").hidden = true;
  renderLevels();
  deadline = Date.now() + seconds * 1000;
  show("ask");
  tick();
  if (ticket.lang === undefined) learnLanguage(ticket);
  else speak(ticket.lang);
}

/** Done with the question (rated, or its time is up): thank the citizen, then ask the next one waiting. */
function finish(thank) {
  const followup = saved !== null && saved.followup_id !== null;
  current = null;
  saved = null;
  if (thank) {
    $("thanks-followup").hidden = !followup;
    show("thanks");
    thanksTimer = setTimeout(next, THANKS_MS);
  } else {
    thanksTimer = setTimeout(next, 2000);
  }
}

/** Ask about the oldest completed service still waiting for its rating, if any; otherwise idle. */
async function next() {
  if (document.body.dataset.state === "ask") return;
  let r;
  try {
    r = await fetch(`${BASE}/windows/${WINDOW}/evaluation`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  } catch {
    r = null;
  }
  if (r && (r.status === 401 || r.status === 403)) return noToken("invalid");
  if (document.body.dataset.state === "ask") return;
  if (r && r.status === 200) {
    const t = await r.json();
    ask(t, t.remaining_s || ASK_S);
    return;
  }
  error("");
  show("idle");
}

function onEvent(msg) {
  const d = msg.data || {};
  if (msg.type === "ticket.completed" && d.window === WINDOW) {
    // A question still open keeps its place; this one is asked after it (the server keeps the order).
    if (!current) ask({ ticket_id: d.id, number: d.number }, ASK_S);
  } else if (msg.type === "evaluation.created" && current && d.ticket === current.ticket_id && saved === null && !sending) {
    finish(true); // rated on the serial evaluator or online meanwhile
  }
}

/** A pad without a valid device token cannot save anything: say so instead of looking normal. */
function noToken(why) {
  current = null;
  $("no-token-why").textContent = why === "missing" ? both("noToken") : both("badToken");
  show("no-token");
  document.body.dataset.ready = "true";
}

function follow() {
  const stream = new HallStream(HALL, () => TOKEN, {
    onEvent,
    onOpen: () => {
      if (!current) next(); // what was completed while the pad was away
    },
    onStatus: (online) => {
      $("offline").hidden = online;
    },
    onRefused: () => noToken("invalid"),
  });
  stream.start();
}

async function start() {
  relabel();
  if (!TOKEN) {
    noToken("missing");
    return;
  }
  catalogue = await (await fetch("/api/v1/feedback/catalogue")).json();
  $("submit").addEventListener("click", submitReasons);
  setInterval(tick, 500);
  show("idle");
  follow();
  document.body.dataset.ready = "true";
}

start();

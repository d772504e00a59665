// The window's evaluation pad (评价器, touch mode of the window display): after this window completes a
// ticket it asks the citizen for one of five levels, optional reasons, posts it, thanks, and times out.
import { HallStream } from "/static/shared/stream.js";
import { STRINGS, stars } from "./strings.js";

const ASK_S = 60; // the question disappears unanswered after this long
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

const $ = (id) => document.getElementById(id);
const fill = (tpl, vals) => tpl.replace(/\{(\w+)\}/g, (_, k) => String(vals[k] ?? ""));
let catalogue = null;
let current = null; // {ticket_id, number}
let level = null;
let chosen = new Set();
let deadline = 0;
let timer = null;

function bilingual(el, zh, en) {
  el.textContent = zh;
  const span = document.createElement("span");
  span.className = "en";
  span.textContent = en;
  el.append(span);
}

function show(state) {
  document.body.dataset.state = state;
  for (const id of ["idle", "ask", "thanks"]) $(id).hidden = id !== state;
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
    const face = document.createElement("span");
    face.className = "face";
    face.textContent = stars(l.code);
    b.append(face);
    const zh = document.createElement("span");
    zh.textContent = l.zh;
    b.append(zh);
    const en = document.createElement("span");
    en.className = "en";
    en.textContent = l.en;
    b.append(en);
    b.addEventListener("click", () => pick(l.code));
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
    bilingual(b, r.zh, r.en);
    b.addEventListener("click", () => {
      chosen.has(r.code) ? chosen.delete(r.code) : chosen.add(r.code);
      renderReasons();
    });
    box.append(b);
  }
  $("reasons-box").hidden = false;
}

function pick(code) {
  if (level !== code) chosen = new Set();
  level = code;
  deadline = Date.now() + ASK_S * 1000; // the citizen is still here
  renderLevels();
  renderReasons();
}

function tick() {
  const left = Math.ceil((deadline - Date.now()) / 1000);
  if (document.body.dataset.state !== "ask") return;
  if (left <= 0) {
    idle();
    return;
  }
  $("countdown").textContent = `${fill(STRINGS.countdown.zh, { s: left })} / ${fill(STRINGS.countdown.en, { s: left })}`;
}

function ask(ticket) {
  current = ticket;
  level = null;
  chosen = new Set();
  error("");
  $("ask-number").textContent = ticket.number;
  $("reasons-box").hidden = true;
  renderLevels();
  deadline = Date.now() + ASK_S * 1000;
  show("ask");
  tick();
}

function idle() {
  current = null;
  show("idle");
}

async function submit() {
  if (!current || level === null) return;
  const body = { ticket_id: current.ticket_id, level, reasons: [...chosen], channel: "pad" };
  let r;
  try {
    r = await fetch(`/api/v1/halls/${encodeURIComponent(HALL)}/evaluations`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
  } catch {
    error(`${STRINGS.failed.zh} / ${STRINGS.failed.en}`);
    return;
  }
  if (r.status === 409) {
    error(`${STRINGS.already.zh} / ${STRINGS.already.en}`);
    setTimeout(idle, THANKS_MS);
    return;
  }
  if (!r.ok) {
    error(`${STRINGS.failed.zh} / ${STRINGS.failed.en}`);
    return;
  }
  const saved = await r.json();
  $("thanks-followup").hidden = saved.followup_id === null;
  current = null;
  show("thanks");
  setTimeout(() => {
    if (document.body.dataset.state === "thanks") idle();
  }, THANKS_MS);
}

async function pending() {
  const r = await fetch(`/api/v1/halls/${encodeURIComponent(HALL)}/windows/${WINDOW}/evaluation`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  if (r.status === 200) ask(await r.json());
}

function onEvent(msg) {
  const d = msg.data || {};
  if (msg.type === "ticket.completed" && d.window === WINDOW) {
    ask({ ticket_id: d.id, number: d.number });
  } else if (msg.type === "ticket.called" && d.window === WINDOW && document.body.dataset.state === "ask") {
    idle(); // the next citizen is being called: the last one has gone
  } else if (msg.type === "evaluation.created" && current && d.ticket === current.ticket_id) {
    show("thanks"); // rated on the serial evaluator or online meanwhile
    setTimeout(idle, THANKS_MS);
  }
}

function follow() {
  const stream = new HallStream(HALL, () => TOKEN, {
    onEvent,
    onOpen: () => pending().catch(() => {}), // what was completed while the pad was away
    onStatus: (online) => {
      $("offline").hidden = online;
    },
  });
  stream.start();
}

async function start() {
  $("window-name").textContent = `${fill(STRINGS.window.zh, { n: WINDOW })} · ${fill(STRINGS.window.en, { n: WINDOW })}`;
  catalogue = await (await fetch("/api/v1/feedback/catalogue")).json();
  $("submit").addEventListener("click", submit);
  timer = setInterval(tick, 500);
  show("idle");
  follow();
  document.body.dataset.ready = "true";
}

start();

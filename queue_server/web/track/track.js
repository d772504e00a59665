// The citizen's tracking page (/track/<token>, the QR code on the ticket): the ticket's public state, live.
// The state comes from GET /api/v1/track/<token>, then from the ticket's own stream /ws/track/<token>
// through the shared follower (a snapshot at every change); when the stream is down it is read every 10 s.
// When called: "请到 N 号窗口 / Please go to window N", a vibration and a beep where the phone allows.
// Chinese always shows; the second line is in the ticket's language (the kiosk's when it was taken), else the
// phone's (Accept-Language, navigator.languages), else English; the switcher at the top changes it.
import { mountRating, post } from "/static/shared/rating.js";
import { HallStream } from "/static/shared/stream.js";
import { NATIVE, SECOND, load, say, secondLang, setSecond } from "./strings.js";

const TOKEN = decodeURIComponent(location.pathname.split("/")[2] || "");
const POLL_MS = 10000;
// The hall sends WeChat notices to an openid bound here (data-wechat, set by the server); WeChat's OAuth
// works only inside WeChat, so the link shows there (its browser says MicroMessenger).
const BINDS = document.body.dataset.wechat === "1";
const WECHAT = BINDS && /MicroMessenger/i.test(navigator.userAgent);
const $ = (id) => document.getElementById(id);

let state = null; // the ticket's public state (queue_server/schemas/track.py TrackState)
let stream = null;
let poller = null;
let alerts = 0;
let audio = null;
let rating = false;
let stopped = false; // the WeChat notices were stopped on this page (its answer stays in view)
let chosen = null; // the language the citizen picked with the switcher (kept for this ticket in the browser)
const STORE = `track-lang:${TOKEN}`;

function put(id, text) {
  $(id).textContent = text || "";
}

function two(id, s) {
  put(id, s.zh);
  put(`${id}-en`, s.en);
}

function minutes(seconds) {
  return Math.max(1, Math.round(seconds / 60));
}

function time(iso) {
  return iso ? iso.slice(11, 16) : "";
}

// Audio may only start after a touch on most phones: the first touch anywhere prepares it.
function prepareAudio() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume();
  } catch {
    audio = null;
  }
}

function beep() {
  if (!audio || audio.state !== "running") return;
  for (const [start, freq] of [
    [0, 880],
    [0.35, 1175],
  ]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.25, audio.currentTime + start);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.3);
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + start);
    osc.stop(audio.currentTime + start + 0.3);
  }
}

function alertCall() {
  alerts += 1;
  document.body.dataset.alerts = String(alerts);
  if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  beep();
  $("state").classList.remove("flash");
  void $("state").offsetWidth; // restart the animation
  $("state").classList.add("flash");
}

function headline(s) {
  const w = s.window ?? s.target_window ?? "";
  switch (s.status) {
    case "waiting":
      if (s.ahead > 0) {
        return [s.ahead === 1 ? say("ahead_one") : say("ahead", { n: s.ahead }), say("wait", { m: minutes(s.estimated_wait_s) })];
      }
      return [say("next"), say("listen")];
    case "called":
      return [say("called", { w }), s.recalls > 0 ? say("recalled", { k: s.recalls + 1 }) : say("called_now")];
    case "serving":
      return [say("serving", { w }), { zh: "", en: "" }];
    case "held":
      return [say("held", { w }), { zh: "", en: "" }];
    case "done":
      return [say("done"), s.evaluated ? say("rated") : say("rate_ask")];
    case "no_show":
      return [say("no_show"), { zh: "", en: "" }];
    case "cancelled":
      return [say("cancelled"), say("cancelled_note")];
    default:
      return [say("expired"), say("expired_note")];
  }
}

const offeredIn = (s) => (s.languages || ["zh", "en"]).filter((x) => SECOND.includes(x));

/** The second line's language: picked here, else the ticket's, else the phone's, else English. */
function languageFor(s) {
  const offered = offeredIn(s);
  const phone = (navigator.languages || []).map((x) => x.split("-")[0].toLowerCase());
  const wanted = [chosen, new URLSearchParams(location.search).get("lang"), s.lang, ...phone];
  return wanted.find((x) => x && offered.includes(x)) || "en";
}

function pickLanguage(s) {
  const offered = offeredIn(s);
  const lang = setSecond(languageFor(s));
  document.body.dataset.second = lang;
  for (const node of document.querySelectorAll("[data-t]")) {
    node.textContent = say(node.dataset.t).en;
    node.lang = lang;
  }
  for (const id of ["hall-name-en", "queue-name-en", "headline-en", "detail-en", "rule-text-en", "updated"]) $(id).lang = lang;
  const nav = $("langs");
  nav.hidden = offered.length < 2;
  nav.replaceChildren(
    ...offered.map((x) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = NATIVE[x];
      b.lang = x;
      b.dataset.lang = x;
      b.setAttribute("aria-pressed", String(x === lang));
      b.onclick = () => {
        chosen = x;
        try {
          localStorage.setItem(STORE, x);
        } catch {
          /* private mode: the choice lasts for this page */
        }
        load(x).then(() => render(null)); // Chinese alone when its texts cannot be had
      };
      return b;
    }),
  );
}

function render(prev) {
  const s = state;
  pickLanguage(s);
  document.body.dataset.status = s.status;
  put("hall-name", s.hall_name);
  put("hall-name-en", s.hall_name_en);
  put("number", s.number);
  put("queue-name", s.queue_name);
  put("queue-name-en", (s.queue_names || {})[secondLang()] || s.queue_name_en);
  const [head, detail] = headline(s);
  two("headline", head);
  two("detail", detail);
  // the window's own name (综合受理窗口 · 종합 접수 창구) beside its number, where one is called or sent to
  const wn = s.window_names || {};
  $("window-name").hidden = !wn.zh || !["called", "serving", "held", "waiting"].includes(s.status);
  put("window-name", wn.zh ? `${wn.zh} · ${wn[secondLang()] || wn.en}` : "");
  const moved = s.transferred && s.status === "waiting";
  $("moved").hidden = !moved;
  if (moved) {
    const m = s.target_window
      ? say("transferred_window", { w: s.target_window })
      : {
          zh: say("transferred_queue", { queue: s.queue_name }).zh,
          en: say("transferred_queue", { queue: (s.queue_names || {})[secondLang()] || s.queue_name_en }).en,
        };
    put("moved", `${m.zh} / ${m.en}`);
  }
  $("rule").hidden = s.status !== "no_show";
  const [ruleZh, ruleEn] = (s.rejoin_rule || "").split(" / ");
  put("rule-text", ruleZh);
  put("rule-text-en", (s.rejoin_rules || {})[secondLang()] || ruleEn);
  if (s.status !== "called") $("state").classList.remove("flash");
  $("notice-box").hidden = !s.notice;
  put("notice", s.notice);
  $("cancel-box").hidden = s.status !== "waiting";
  // inside WeChat: the link to bind; anywhere (the hall sends WeChat notices): stop them once bound
  const open = ["waiting", "called", "held"].includes(s.status);
  $("wechat").hidden = !WECHAT || s.wechat_bound;
  $("wechat-on").hidden = !BINDS || !s.wechat_bound;
  $("wechat-off").hidden = !BINDS || !s.wechat_bound;
  $("wechat-box").hidden = !open || !BINDS || (!WECHAT && !s.wechat_bound && !stopped);
  if (s.status !== "waiting") $("confirm").hidden = true;
  put("confirm-number", s.number);
  $("hint").hidden = !["waiting", "called", "held"].includes(s.status);
  showRating(s);
  document.title = s.status === "called" ? `${head.zh} / ${head.en}` : `${s.number} · ${head.zh} / ${head.en}`;
  const calledNow = s.status === "called" && (!prev || prev.status !== "called" || s.recalls > prev.recalls);
  if (calledNow && prev) alertCall();
}

async function showRating(s) {
  const open = s.status === "done" && !s.evaluated;
  $("rate").hidden = !open && !rating;
  if (!open || rating) return;
  rating = true;
  const catalogue = await (await fetch("/api/v1/feedback/catalogue")).json();
  const els = { levels: $("levels"), reasons: $("reasons"), comment: $("rate-comment"), submit: $("rate-submit") };
  mountRating({ ...els, result: $("rate-result") }, catalogue, s.hall, TOKEN, () => {
    for (const id of ["levels", "reasons"]) $(id).hidden = true;
    $("rate-comment").closest("label").hidden = true;
    $("rate-submit").hidden = true;
  });
}

async function take(data, at) {
  const prev = state;
  state = data;
  await load(languageFor(data)); // the second line's texts (Chinese alone when they cannot be had)
  if (state !== data) return; // a newer state came meanwhile: that one shows
  render(prev);
  const t = say("updated", { t: time(at) || new Date().toTimeString().slice(0, 5) });
  put("updated", `${t.zh} · ${t.en}`);
  document.body.dataset.ready = "true";
}

function missing() {
  document.body.dataset.status = "missing";
  two("headline", say("missing"));
  two("detail", say("missing_note"));
  for (const id of ["cancel-box", "rule", "rate", "notice-box", "hint", "wechat-box"]) $(id).hidden = true;
  document.body.dataset.ready = "true";
}

async function read() {
  const r = await fetch(`/api/v1/track/${encodeURIComponent(TOKEN)}`, { cache: "no-store" });
  if (r.status === 404) {
    await load(secondLang());
    missing();
    return false;
  }
  if (r.ok) await take(await r.json(), null);
  return r.ok;
}

function online(up) {
  $("offline").hidden = up;
  if (up) {
    clearInterval(poller);
    poller = null;
  } else if (!poller) {
    poller = setInterval(read, POLL_MS); // websockets blocked or the server away: read now and then
  }
}

async function cancel() {
  try {
    await take(await post(`/api/v1/track/${encodeURIComponent(TOKEN)}/cancel`), null);
  } catch (e) {
    const f = say("cancel_failed");
    put("cancel-result", `${f.zh}${e.message}`);
  }
}

async function unbindWeChat() {
  try {
    stopped = true;
    await take(await post(`/api/v1/track/${encodeURIComponent(TOKEN)}/wechat/unbind`), null);
    const m = say("wechat_stopped");
    put("wechat-result", `${m.zh} / ${m.en}`);
  } catch (e) {
    put("wechat-result", e.message);
  }
}

async function start() {
  try {
    chosen = localStorage.getItem(STORE);
  } catch {
    chosen = null;
  }
  document.addEventListener("pointerdown", prepareAudio, { passive: true });
  $("state").addEventListener("animationend", () => $("state").classList.remove("flash"));
  $("cancel").addEventListener("click", () => {
    $("confirm").hidden = false;
    $("cancel").hidden = true;
  });
  $("confirm-no").addEventListener("click", () => {
    $("confirm").hidden = true;
    $("cancel").hidden = false;
  });
  $("confirm-yes").addEventListener("click", cancel);
  $("wechat").href = `/wechat/bind/${encodeURIComponent(TOKEN)}`;
  $("wechat-off").addEventListener("click", unbindWeChat);
  if (!(await read())) return;
  stream = new HallStream(
    state.hall,
    null,
    {
      onSnapshot: (msg) => take(msg.data, msg.at),
      onStatus: online,
      onRefused: (code) => {
        if (code === 4404) missing();
      },
    },
    { path: `/ws/track/${encodeURIComponent(TOKEN)}`, heartbeatS: 10, staleMs: 25000 },
  );
  stream.start();
}

start();

// The clerk console page (/console): log in, pick a window, then call and serve with buttons or keys.
// State comes from the desk read model, refreshed whenever the hall event stream reports a change.

import { get, hallPath, post } from "./api.js";
import { $, bi, el, everySecond, notify, syncClock, throttle, tick, wallClock } from "./dom.js";
import { installKeys } from "./keys.js";
import { renderCounts, renderCurrent, renderHeld, renderTitle, renderWaiting } from "./desk.js";
import { PAUSE_REASONS, WINDOW_STATUS, pair } from "./labels.js";
import { fatal, signIn, signOut, staffStream, watchAuth } from "./login.js";
import { registered } from "./panels.js";
import "./cases-desk.js"; // registers the 办件 Cases panel (收件受理)

const WINDOW_KEY = "hall.console.window";
const DONE_TEXT = {
  recall: ["已重呼", "recalled"],
  "no-show": ["已过号", "marked no-show"],
  start: ["开始办理", "serving"],
  complete: ["已办结", "completed"],
  hold: ["已挂起", "on hold"],
};

const s = {
  me: null,
  hall: null,
  hallInfo: null,
  number: null,
  desk: null,
  revealed: null,
  busy: false,
  stream: null,
  loads: 0,
  rendered: 0, // the load whose answer is on screen
  countsStale: true, // today's counts change only with events of this window: fetch them only then
  sat: false, // this console holds its window (opened or took it over in the clerk's name)
  lost: null, // the display name of whoever took the window over from this console, or null
};

const shown = (me) => me.display_name || me.name;

const deskPath = () => `${hallPath(s.hall)}/console/windows/${s.number}`;

// ---------------------------------------------------------------- data

async function load() {
  const mine = ++s.loads;
  const withCounts = s.countsStale || !s.desk;
  s.countsStale = false;
  try {
    const desk = await get(`${deskPath()}?counts=${withCounts}`);
    if (mine < s.rendered) {
      // The answer to a later request is already shown (answers may arrive out of order). Showing every
      // answer not older than the one on screen never starves the page, as dropping all but the latest
      // did when events kept starting loads (the desk stayed on the previous ticket for seconds).
      if (withCounts) {
        s.countsStale = true; // the later load may not have asked for them
        reload();
      }
      return;
    }
    s.rendered = mine;
    syncClock(desk.now);
    if (desk.counts === null) desk.counts = s.desk.counts;
    s.desk = desk;
    render();
    document.body.dataset.seq = String(desk.seq);
  } catch (err) {
    s.countsStale ||= withCounts;
    if (err.status === 403 || err.status === 404) fatal(err.message);
    else notify(err.message);
  }
}

const reload = throttle(load, 150);

function onEvent(msg) {
  const d = msg.data || {};
  if (msg.type === "window.taken_over" && d.number === s.number) {
    load(); // another clerk sat down here: read who, then stop acting (render)
    return;
  }
  if (d.window === s.number || d.from_window === s.number) s.countsStale = true;
  reload();
}

// ---------------------------------------------------------------- render

function render() {
  const d = s.desk;
  if (!d) return;
  if (s.sat && d.window.clerk && d.window.clerk !== s.me.name && !s.lost) s.lost = d.window.clerk_name || d.window.clerk;
  renderLost();
  renderTitle(d, s.hallInfo ? s.hallInfo.name : "");
  if (s.revealed && (!d.current || d.current.id !== s.revealed.id)) s.revealed = null;
  renderCurrent($("current"), d, s.revealed, s.hallInfo && s.hallInfo.timezone);
  const total = renderWaiting($("queues"), d);
  $("waiting-total").textContent = String(total);
  renderHeld($("held"), d);
  $("held-total").textContent = String(d.held.length);
  renderCounts($("counts"), d.counts);
  for (const p of registered()) p.update($(`panel-${p.id}`).querySelector(".panel-body"), panelContext());
  const open = d.window.status === "open";
  const st = d.current ? d.current.status : null;
  const enabled = {
    "call-next": open && !d.current,
    recall: st === "called",
    "no-show": st === "called",
    start: st === "called",
    complete: !!d.current,
    transfer: !!d.current,
    hold: !!d.current,
    pause: true,
    "complete-next": !!d.current && open,
  };
  for (const b of $("actions").querySelectorAll("button[data-action]")) b.disabled = s.busy || !!s.lost || !enabled[b.dataset.action];
  const pb = $("pause-button");
  const paused = !open;
  pb.classList.toggle("resume", paused);
  pb.querySelector("b").textContent = paused ? "恢复服务" : "暂停窗口";
  pb.querySelector("small").textContent = paused ? "Resume window" : "Pause window";
  $("call-form").querySelector("button").disabled = s.busy || !!s.lost || !(open && !d.current);
}

/** Taken over by another clerk: this console stops acting on the window and says who has it now. */
function renderLost() {
  const box = $("lost");
  box.hidden = !s.lost;
  document.body.classList.toggle("lost", !!s.lost);
  if (s.lost) {
    $("lost-text").textContent = `${s.number} 号窗口已由 ${s.lost} 接管，本页面已停止操作 · `
      + `Window ${s.number} was taken over by ${s.lost}; this console no longer acts on it`;
  }
}

function panelContext() {
  return { me: s.me, hall: s.hall, window: s.number, desk: s.desk, get, post, notify };
}

function mountPanels() {
  for (const p of registered()) {
    const body = el("div", "panel-body");
    const box = el("section", "panel", el("h3", null, bi(p.title)), body);
    box.id = `panel-${p.id}`;
    document.querySelector(".desk-right").append(box);
    p.mount(body, panelContext());
  }
}

// ---------------------------------------------------------------- actions

async function run(fn) {
  if (s.busy) return;
  s.busy = true;
  $("flash").hidden = true; // the status line never shows the previous action's message
  render();
  try {
    await fn();
  } catch (err) {
    notify(err.message);
  } finally {
    s.busy = false;
    s.countsStale = true;
    await load();
  }
}

/** Call next, after completing `done` (the window's current ticket) in the same change when given. */
async function callNext(done) {
  const t = done
    ? await post(`${hallPath(s.hall)}/windows/${s.number}/complete-and-call-next`, { ticket_id: done.id })
    : await post(`${hallPath(s.hall)}/windows/${s.number}/call-next`);
  if (t === null) notify("暂无等候的号 · Nobody is waiting for this window", "ok");
  else notify(`已叫 ${t.number} · Called ${t.number}`, "ok");
}

function action(name) {
  const cur = s.desk && s.desk.current;
  if (name === "transfer") return openTransfer();
  if (name === "pause") {
    if (s.desk.window.status !== "open") return run(() => setStatus("open", ""));
    return openPause();
  }
  if (name === "call-next") return run(() => callNext(null));
  if (!cur) return undefined;
  if (name === "complete-next") return run(() => callNext(cur));
  return run(async () => {
    const t = await post(`/api/v1/tickets/${cur.id}/${name}`);
    const [zh, en] = pair(DONE_TEXT, name);
    notify(`${t.number} ${zh} · ${en}`, "ok");
  });
}

function callTicket(body) {
  return run(async () => {
    const t = await post(`${hallPath(s.hall)}/windows/${s.number}/call`, body);
    notify(`已叫 ${t.number} · Called ${t.number}`, "ok");
  });
}

/** A number typed as digits only (a USB keypad has no letters): the one waiting ticket it can mean. */
function callByText(text) {
  const v = text.trim().toUpperCase();
  if (!v) return;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    const hits = s.desk.waiting.filter((t) => Number(t.number.replace(/^\D+/, "")) === n);
    if (hits.length === 1) return callTicket({ ticket_id: hits[0].id });
    if (hits.length === 0) return notify(`等候中没有 ${v} 号 · No waiting ticket ${v}`);
    return chooseTicket(hits);
  }
  return callTicket({ number: v });
}

/** Several waiting tickets match the digits (B003, C003): offer them as F-keys (or 1, 2… on a number pad). */
function chooseTicket(hits) {
  const dlg = $("choose-dialog");
  dlg.dataset.digits = "choice";
  $("choose-list").replaceChildren(...hits.slice(0, 9).map((t, i) => {
    const q = s.desk.queues.find((x) => x.code === t.queue);
    const b = el("button", "choice", el("kbd", null, `F${i + 1}`), el("b", null, t.number),
      el("span", "en", q ? `${q.name} · ${q.name_en}` : t.queue));
    b.type = "button";
    b.dataset.key = `F${i + 1}`;
    b.dataset.ticket = String(t.id);
    b.onclick = () => {
      dlg.close();
      callTicket({ ticket_id: t.id });
    };
    return b;
  }));
  dlg.showModal();
}

function setStatus(status, reason) {
  return post(`${hallPath(s.hall)}/windows/${s.number}/status`, { status, reason });
}

// ---------------------------------------------------------------- dialogs

function openTransfer() {
  const cur = s.desk.current;
  if (!cur) return;
  const dlg = $("transfer-dialog");
  $("transfer-number").textContent = cur.number;
  const go = (body) => () => {
    dlg.close();
    run(async () => {
      const t = await post(`/api/v1/tickets/${cur.id}/transfer`, body);
      notify(`${t.number} 已转移 · transferred`, "ok");
    });
  };
  $("transfer-queues").replaceChildren(...s.desk.targets.queues.map((q, i) => {
    const key = i < 9 ? `F${i + 1}` : null;
    const b = el("button", "choice", key ? el("kbd", null, key) : null, el("b", null, q.code), bi([q.name, q.name_en]));
    b.type = "button";
    b.dataset.queue = q.code;
    if (key) b.dataset.key = key;
    b.onclick = go({ queue: q.code });
    return b;
  }));
  $("transfer-windows").replaceChildren(...s.desk.targets.windows.filter((w) => w.number !== s.number).map((w) => {
    const b = el("button", "choice", el("b", null, `${w.number} 号`), el("span", "en", `Window ${w.number} · ${w.queues.join(" ")}`));
    b.type = "button";
    b.dataset.window = String(w.number);
    b.onclick = go({ window: w.number });
    return b;
  }));
  dlg.showModal();
}

function openPause() {
  const dlg = $("pause-dialog");
  const pause = (reason) => {
    dlg.close();
    run(() => setStatus("paused", reason));
  };
  $("pause-reasons").replaceChildren(...PAUSE_REASONS.map((r, i) => {
    const b = el("button", "choice", el("kbd", null, `F${i + 1}`), bi(r));
    b.type = "button";
    b.dataset.key = `F${i + 1}`;
    b.onclick = () => pause(`${r[0]} ${r[1]}`);
    return b;
  }));
  $("pause-other").value = "";
  $("pause-form").onsubmit = (e) => {
    e.preventDefault();
    pause($("pause-other").value.trim());
  };
  $("close-window").onclick = () => {
    dlg.close();
    run(() => setStatus("closed", $("pause-other").value.trim()));
  };
  dlg.showModal();
}

// ---------------------------------------------------------------- start

/** Ask before taking over a window another clerk holds; resolves true to take it over. */
function confirmTakeover(number, holder) {
  const dlg = $("takeover-dialog");
  $("takeover-text").textContent = `${number} 号窗口正由 ${holder} 使用。接管后对方的叫号台将停止操作。`;
  $("takeover-en").textContent = `Window ${number} is in use by ${holder}. Taking it over stops their console.`;
  return new Promise((resolve) => {
    $("takeover-go").onclick = () => dlg.close("take");
    dlg.onclose = () => resolve(dlg.returnValue === "take");
    dlg.returnValue = "";
    dlg.showModal();
    $("takeover-go").focus();
  });
}

/** A window someone else holds (opened in their name, not closed since): their display name, or null. */
const holderOf = (w) => (w.clerk && w.clerk !== s.me.name && w.status !== "closed" ? w.clerk_name || w.clerk : null);

async function pickWindow() {
  const wins = (await get(`${hallPath(s.hall)}/console/overview`)).windows;
  const allowed = s.me.windows.length ? wins.filter((w) => s.me.windows.includes(w.number)) : wins;
  if (allowed.length === 1 && s.me.windows.length && !holderOf(allowed[0])) return { number: allowed[0].number, takeOver: false };
  $("picker").hidden = false;
  $("picker-hall").textContent = s.hallInfo ? s.hallInfo.name : s.hall;
  $("picker-user").textContent = shown(s.me);
  return new Promise((resolve) => {
    // From a number pad: F1… picks the n-th window, or its number then Enter.
    let typed = "";
    const onKey = (e) => {
      if ($("picker").hidden || document.querySelector("dialog[open]")) return;
      const list = $("window-list");
      let b = /^F\d+$/.test(e.key) ? list.querySelector(`button[data-key="${e.key}"]`) : null;
      if (/^[0-9]$/.test(e.key)) typed = (typed + e.key).slice(-3);
      else if (e.key === "Enter" && typed) {
        b = list.querySelector(`button[data-window="${Number(typed)}"]`);
        typed = "";
      } else if (!b) return;
      e.preventDefault();
      if (b) b.click();
    };
    addEventListener("keydown", onKey);
    const done = (picked) => {
      removeEventListener("keydown", onKey);
      resolve(picked);
    };
    $("window-list").replaceChildren(...allowed.map((w, i) => {
      const holder = holderOf(w);
      const who = w.clerk && w.status !== "closed"
        ? (w.clerk === s.me.name ? "您 · You" : `${w.clerk_name || w.clerk} 使用中 · In use`)
        : "无人 · Free";
      const b = el("button", `window-choice win-${w.status}${holder ? " held" : ""}`,
        el("span", "wc-number", `${w.number}`), el("span", "wc-label", bi(["号窗口", "Window"])),
        el("span", "wc-queues", w.queues.join(" · ")), el("span", "wc-status", bi(pair(WINDOW_STATUS, w.status))),
        el("span", "wc-holder", who), i < 12 ? el("kbd", "wc-key", `F${i + 1}`) : null);
      b.type = "button";
      b.dataset.window = String(w.number);
      b.dataset.key = i < 12 ? `F${i + 1}` : "";
      b.onclick = async () => {
        const takeOver = holder ? await confirmTakeover(w.number, holder) : false;
        if (holder && !takeOver) return;
        $("picker").hidden = true;
        done({ number: w.number, takeOver });
      };
      return b;
    }));
  });
}

async function openDesk(confirmed) {
  sessionStorage.setItem(WINDOW_KEY, `${s.hall}:${s.number}`);
  mountPanels();
  await load();
  if (!s.desk) return;
  $("desk").hidden = false;
  const w = s.desk.window;
  const holder = holderOf(w);
  const takeOver = holder !== null && (confirmed || (await confirmTakeover(s.number, holder)));
  if (holder !== null && !takeOver) {
    switchWindow(); // not taken over: choose another window
    return;
  }
  // Sitting down at a window that is not paused opens it in this clerk's name (the supervisor sees who);
  // one another clerk holds is taken over only once confirmed, and their console is told.
  if (takeOver || (w.status !== "paused" && (w.status !== "open" || w.clerk !== s.me.name))) {
    try {
      await post(`${hallPath(s.hall)}/windows/${s.number}/status`, { status: "open", reason: "", take_over: takeOver });
      if (takeOver) notify(`已从 ${holder} 接管本窗口 · Took the window over from ${holder}`, "ok");
    } catch (err) {
      notify(err.message);
    }
  }
  s.sat = true;
  await load();
  $("user").textContent = shown(s.me);
  s.stream = staffStream(s.hall, {
    onSnapshot: () => {
      s.countsStale = true;
      reload();
    },
    onEvent,
  });
  s.stream.start();
}

function switchWindow() {
  sessionStorage.removeItem(WINDOW_KEY);
  const u = new URL(location.href);
  u.searchParams.delete("window");
  location.href = u.toString();
}

function bindPage() {
  for (const id of ["logout", "picker-logout"]) $(id).onclick = signOut;
  $("switch").onclick = switchWindow;
  $("lost-switch").onclick = switchWindow;
  for (const b of $("actions").querySelectorAll("button[data-action]")) b.onclick = () => action(b.dataset.action);
  $("call-form").onsubmit = (e) => {
    e.preventDefault();
    const v = $("call-number").value;
    $("call-number").value = "";
    $("call-number").blur(); // the F-keys and the number pad work again right away
    callByText(v);
  };
  $("queues").onclick = (e) => {
    const b = e.target.closest("button[data-call]");
    if (b && !b.disabled) callTicket({ ticket_id: Number(b.dataset.call) });
  };
  $("held").onclick = (e) => {
    const b = e.target.closest("button[data-resume]");
    if (b && !b.disabled) run(() => post(`/api/v1/tickets/${b.dataset.resume}/resume`));
  };
  $("current").onclick = (e) => {
    if (!e.target.closest("#reveal")) return;
    const cur = s.desk.current;
    if (s.revealed && s.revealed.id === cur.id) {
      s.revealed = null;
      render();
      return;
    }
    run(async () => {
      s.revealed = await post(`/api/v1/console/tickets/${cur.id}/reveal`);
    });
  };
  installKeys({ active: () => !!s.desk && !$("desk").hidden && !s.lost, callByText });
  everySecond(() => {
    if (!$("desk").hidden) $("clock").textContent = wallClock(s.hallInfo && s.hallInfo.timezone);
  });
  setInterval(tick, 1000);
}

async function main() {
  watchAuth();
  bindPage();
  s.me = await signIn();
  if (s.me.role !== "clerk" && s.me.role !== "admin") {
    fatal(`此页面供窗口工作人员使用；大厅监控请打开 /console/hall · For window staff only (your role: ${s.me.role}); supervisors use /console/hall`);
    return;
  }
  const params = new URLSearchParams(location.search);
  const [savedHall, savedWin] = (sessionStorage.getItem(WINDOW_KEY) || ":").split(":");
  s.hall = params.get("hall") || s.me.hall || savedHall;
  const halls = await get("/api/v1/halls");
  if (!s.hall) s.hall = halls.length ? halls[0].code : "";
  s.hallInfo = halls.find((h) => h.code === s.hall) || null;
  if (s.me.role === "clerk" && s.hall !== s.me.hall) {
    // The server refuses it too (403); say so plainly instead of showing anything of that hall.
    fatal("不能查看其他大厅 / You belong to another hall");
    return;
  }
  const wanted = Number(params.get("window") || (savedHall === s.hall ? savedWin : "")) || null;
  const chosen = wanted && (!s.me.windows.length || s.me.windows.includes(wanted))
    ? { number: wanted, takeOver: false } : await pickWindow();
  s.number = chosen.number;
  await openDesk(chosen.takeOver);
}

main();

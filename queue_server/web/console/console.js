// The clerk console page (/console): log in, pick a window, then call and serve with buttons or keys.
// State comes from the desk read model, refreshed whenever the hall event stream reports a change.

import { get, hallPath, post, token } from "./api.js";
import { $, bi, el, everySecond, notify, syncClock, throttle, tick, wallClock } from "./dom.js";
import { installKeys } from "./keys.js";
import { renderCounts, renderCurrent, renderHeld, renderTitle, renderWaiting } from "./desk.js";
import { PAUSE_REASONS, WINDOW_STATUS, pair } from "./labels.js";
import { fatal, signIn, signOut, watchAuth } from "./login.js";
import { registered } from "./panels.js";
import "./cases-desk.js"; // registers the 办件 Cases panel (收件受理)
import { HallStream } from "/static/shared/stream.js";

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
  countsStale: true, // today's counts change only with events of this window: fetch them only then
};

const deskPath = () => `${hallPath(s.hall)}/console/windows/${s.number}`;

// ---------------------------------------------------------------- data

async function load() {
  const mine = ++s.loads;
  const withCounts = s.countsStale || !s.desk;
  s.countsStale = false;
  try {
    const desk = await get(`${deskPath()}?counts=${withCounts}`);
    if (mine !== s.loads) {
      if (withCounts) {
        s.countsStale = true; // the newer load may not have asked for them
        reload();
      }
      return; // a newer load is under way
    }
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
  if (d.window === s.number || d.from_window === s.number) s.countsStale = true;
  reload();
}

// ---------------------------------------------------------------- render

function render() {
  const d = s.desk;
  if (!d) return;
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
  for (const b of $("actions").querySelectorAll("button[data-action]")) b.disabled = s.busy || !enabled[b.dataset.action];
  const pb = $("pause-button");
  const paused = !open;
  pb.classList.toggle("resume", paused);
  pb.querySelector("b").textContent = paused ? "恢复服务" : "暂停窗口";
  pb.querySelector("small").textContent = paused ? "Resume window" : "Pause window";
  $("call-form").querySelector("button").disabled = s.busy || !(open && !d.current);
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
    notify(hits.length === 0
      ? `等候中没有 ${v} 号 · No waiting ticket ${v}`
      : `${hits.map((t) => t.number).join("、")} 都符合，请输入字母 · Several match: type the letter too`);
    return;
  }
  return callTicket({ number: v });
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
  $("transfer-queues").replaceChildren(...s.desk.targets.queues.map((q) => {
    const b = el("button", "choice", el("b", null, q.code), bi([q.name, q.name_en]));
    b.type = "button";
    b.dataset.queue = q.code;
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
  $("pause-reasons").replaceChildren(...PAUSE_REASONS.map((r) => {
    const b = el("button", "choice", bi(r));
    b.type = "button";
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

async function pickWindow() {
  const wins = await get(`${hallPath(s.hall)}/windows`);
  const allowed = s.me.windows.length ? wins.filter((w) => s.me.windows.includes(w.number)) : wins;
  if (allowed.length === 1 && s.me.windows.length) return allowed[0].number;
  $("picker").hidden = false;
  $("picker-hall").textContent = s.hallInfo ? s.hallInfo.name : s.hall;
  $("picker-user").textContent = s.me.name;
  return new Promise((resolve) => {
    $("window-list").replaceChildren(...allowed.map((w) => {
      const b = el("button", `window-choice win-${w.status}`,
        el("span", "wc-number", `${w.number}`), el("span", "wc-label", bi(["号窗口", "Window"])),
        el("span", "wc-queues", w.queues.join(" · ")), el("span", "wc-status", bi(pair(WINDOW_STATUS, w.status))));
      b.type = "button";
      b.dataset.window = String(w.number);
      b.onclick = () => {
        $("picker").hidden = true;
        resolve(w.number);
      };
      return b;
    }));
  });
}

async function openDesk() {
  sessionStorage.setItem(WINDOW_KEY, `${s.hall}:${s.number}`);
  mountPanels();
  await load();
  if (!s.desk) return;
  $("desk").hidden = false;
  const w = s.desk.window;
  // Sitting down at a window that is not paused opens it in this clerk's name (the supervisor sees who).
  if (w.status !== "paused" && (w.status !== "open" || w.clerk !== s.me.name)) {
    try {
      await setStatus("open", "");
      if (w.status === "open" && w.clerk) notify(`已从 ${w.clerk} 接管本窗口 · Took the window over from ${w.clerk}`, "ok");
    } catch (err) {
      notify(err.message);
    }
    await load();
  }
  $("user").textContent = s.me.name;
  s.stream = new HallStream(s.hall, token, {
    onSnapshot: () => {
      s.countsStale = true;
      reload();
    },
    onEvent,
    onStatus: (online) => {
      $("conn").dataset.online = String(online);
      $("conn").textContent = online ? "● 在线 Live" : "● 连接中断 Offline";
    },
    onRefused: (code) => {
      if (code === 4401) dispatchEvent(new CustomEvent("auth-lost")); // the token expired: log in again
      else fatal("事件流拒绝连接：无权查看该大厅 / The event stream refused: not your hall");
    },
  });
  s.stream.start();
}

function bindPage() {
  for (const id of ["logout", "picker-logout", "fatal-logout"]) $(id).onclick = signOut;
  $("switch").onclick = () => {
    sessionStorage.removeItem(WINDOW_KEY);
    const u = new URL(location.href);
    u.searchParams.delete("window");
    location.href = u.toString();
  };
  for (const b of $("actions").querySelectorAll("button[data-action]")) b.onclick = () => action(b.dataset.action);
  $("call-form").onsubmit = (e) => {
    e.preventDefault();
    const v = $("call-number").value;
    $("call-number").value = "";
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
  installKeys({ active: () => !!s.desk && !$("desk").hidden, callByText });
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
  s.number = wanted && (!s.me.windows.length || s.me.windows.includes(wanted)) ? wanted : await pickWindow();
  await openDesk();
}

main();

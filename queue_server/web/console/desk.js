// Rendering of the clerk's desk: the current ticket, the waiting lists by domain, held tickets, counts.
// Pure DOM building from the desk read model; the page module (console.js) owns state and actions.

import { bi, clockTime, duration, el, minutes, ticking } from "./dom.js";
import { CHANNEL, COUNTS, INTERPRETER, LANE, TICKET_STATUS, WINDOW_STATUS, pair } from "./labels.js";

const SHOWN_PER_QUEUE = 60;

function fact(label, value, cls = "") {
  return el("div", `fact ${cls}`, el("dt", null, bi(label)), el("dd", null, value));
}

function laneBadge(lane) {
  return el("span", `lane lane-${lane}`, pair(LANE, lane)[0]);
}

/** 需要语言服务: the badge of a ticket whose holder needs an interpreter (`full`: both languages). */
function interpreterBadge(lang, full) {
  const label = pair(INTERPRETER, lang);
  const b = el("span", "interpreter", full ? bi(label) : label[0]);
  b.dataset.lang = lang;
  b.title = `${label[0]} · ${label[1]}`;
  return b;
}

/** The current ticket card; `revealed` holds unmasked data the clerk chose to see (or null). */
export function renderCurrent(box, desk, revealed, tz) {
  const c = desk.current;
  box.dataset.status = c ? c.status : "idle";
  if (!c) {
    box.replaceChildren(
      el("div", "cur-idle",
        el("div", "cur-idle-title", bi(["当前无办理", "No ticket at the window"])),
        el("div", "cur-idle-hint", desk.window.status === "open"
          ? bi(["按 F1 叫下一位", "Press F1 to call the next citizen"])
          : bi(["窗口已暂停，按 F8 恢复服务", "Window paused: press F8 to resume"]))),
    );
    return;
  }
  const head = el("div", "cur-head",
    el("span", "cur-number", c.number),
    el("span", `badge status-${c.status}`, bi(pair(TICKET_STATUS, c.status))),
    c.lane !== "normal" ? laneBadge(c.lane) : null,
    c.interpreter ? interpreterBadge(c.interpreter, true) : null);
  head.querySelector(".cur-number").dataset.number = c.number;
  const q = (desk.targets.queues || []).find((x) => x.code === c.queue);
  const facts = el("dl", "facts",
    fact(["业务", "Domain"], q ? `${q.code} ${q.name} · ${q.name_en}` : c.queue),
    fact(["取号时间", "Taken at"], clockTime(c.arrived_at, tz)),
    fact(["等候用时", "Waited"], c.called_at ? duration((Date.parse(c.called_at) - Date.parse(c.arrived_at)) / 1000) : "—"),
    c.status === "serving" && c.serving_at
      ? fact(["办理用时", "Service time"], ticking(c.serving_at), "live")
      : fact(["叫号已过", "Since called"], c.called_at ? ticking(c.called_at) : "—", "live"),
    fact(["重呼次数", "Recalls"], String(c.recalls || 0)),
    fact(["取号渠道", "Channel"], pair(CHANNEL, c.channel)[0]),
  );
  const who = el("dl", "facts person");
  const a = c.appointment;
  const shown = revealed && revealed.id === c.id ? revealed : null;
  if (a) {
    who.append(
      fact(["预约时段", "Appointment"], `${clockTime(a.start, tz)}–${clockTime(a.end, tz)}`),
      fact(["姓名", "Name"], el("span", "pii", shown && shown.name !== null ? shown.name : a.name_masked)),
    );
  }
  const idm = c.id_number_masked || (a && a.id_number_masked);
  const phm = c.phone_masked || (a && a.phone_masked);
  if (idm) who.append(fact(["证件号码", "ID number"], el("span", "pii", shown && shown.id_number ? shown.id_number : idm)));
  if (phm) who.append(fact(["手机", "Phone"], el("span", "pii", shown && shown.phone ? shown.phone : phm)));
  const parts = [head, facts];
  if (who.childElementCount > 0) {
    const btn = el("button", "reveal ghost", shown ? bi(["隐藏", "Hide"]) : bi(["查看完整信息", "Show in full"]));
    btn.type = "button";
    btn.id = "reveal";
    const note = el("span", "audit-note", shown ? "查看已记录 · This look is recorded" : "查看将被记录 · Looking is recorded");
    parts.push(el("div", "person-box", who, el("div", "reveal-row", btn, note)));
  }
  box.replaceChildren(...parts);
}

function ticketItem(t, desk, canCall) {
  const li = el("li", "ticket", el("span", "t-number", t.number));
  li.dataset.id = String(t.id);
  li.dataset.number = t.number;
  if (t.lane !== "normal") li.append(laneBadge(t.lane));
  if (t.interpreter) li.append(interpreterBadge(t.interpreter, false));
  if (t.id === desk.next_id) {
    li.classList.add("next");
    li.append(el("span", "next-tag", "下一位 Next"));
  }
  const wait = el("span", "t-wait", ticking(t.arrived_at));
  li.append(wait);
  const call = el("button", "t-call", bi(["叫", "Call"]));
  call.type = "button";
  call.dataset.call = String(t.id);
  call.disabled = !canCall;
  li.append(call);
  return li;
}

/** The waiting lists: tickets transferred to this window first, then one group per domain of the window. */
export function renderWaiting(box, desk) {
  const canCall = desk.window.status === "open" && !desk.current;
  const groups = [];
  const here = desk.waiting.filter((t) => t.target_window === desk.window.number);
  if (here.length) {
    groups.push(el("section", "group group-here",
      el("h4", null, bi(["转来本窗口", "Transferred here"]), el("span", "group-count", String(here.length))),
      el("ul", "ticket-list", ...here.map((t) => ticketItem(t, desk, canCall)))));
  }
  for (const q of desk.queues) {
    const mine = desk.waiting.filter((t) => t.queue === q.code && t.target_window === null);
    const list = el("ul", "ticket-list", ...mine.slice(0, SHOWN_PER_QUEUE).map((t) => ticketItem(t, desk, canCall)));
    if (mine.length === 0) list.append(el("li", "empty", "无人等候 · Nobody waiting"));
    if (q.waiting > SHOWN_PER_QUEUE) list.append(el("li", "more", `另有 ${q.waiting - SHOWN_PER_QUEUE} 人 · ${q.waiting - SHOWN_PER_QUEUE} more`));
    const head = el("h4", null,
      el("span", "q-code", q.code), bi([q.name, q.name_en]),
      el("span", "group-count", `${q.waiting} 人`),
      q.waiting > 0 ? el("span", "q-est", `约 ${minutes(q.estimated_wait_s)} 分 · ~${minutes(q.estimated_wait_s)} min`) : null);
    const g = el("section", "group", head, list);
    g.dataset.queue = q.code;
    groups.push(g);
  }
  box.replaceChildren(...groups);
  return desk.queues.reduce((n, q) => n + q.waiting, 0);
}

/** Tickets held at this window, each with a resume button. */
export function renderHeld(box, desk) {
  const canResume = desk.window.status === "open" && !desk.current;
  const items = desk.held.map((t) => {
    const b = el("button", "t-call", bi(["恢复", "Resume"]));
    b.type = "button";
    b.dataset.resume = String(t.id);
    b.disabled = !canResume;
    const li = el("li", "ticket", el("span", "t-number", t.number), t.lane !== "normal" ? laneBadge(t.lane) : null,
      el("span", "t-queue", t.queue), b);
    li.dataset.id = String(t.id);
    li.dataset.number = t.number;
    return li;
  });
  if (items.length === 0) items.push(el("li", "empty", "无挂起 · None"));
  box.replaceChildren(...items);
}

/** Today's counts of this window. */
export function renderCounts(box, counts) {
  const rows = COUNTS.map(([k, label]) => {
    const d = el("div", "count", el("dd", null, String(counts[k] || 0)), el("dt", null, bi(label)));
    d.dataset.count = k;
    return d;
  });
  const avg = counts.avg_service_s;
  rows.push(el("div", "count", el("dd", null, avg === null || avg === undefined ? "—" : duration(avg)), el("dt", null, bi(["平均办理", "Avg service"]))));
  box.replaceChildren(...rows);
}

/** Header: window number and name, status badge. */
export function renderTitle(desk, hallName) {
  const w = desk.window;
  const title = document.getElementById("win-title");
  title.replaceChildren(el("span", "zh", `${w.number} 号窗口`), el("span", "en", `Window ${w.number}`));
  if (w.name) title.append(el("span", "win-name", w.name));
  const badge = document.getElementById("win-status");
  badge.className = `badge win-${w.status}`;
  badge.replaceChildren(bi(pair(WINDOW_STATUS, w.status)));
  if (w.reason) badge.append(el("span", "reason", w.reason));
  document.getElementById("hall-name").textContent = hallName || "";
  document.title = `${w.number} 号窗口 · 叫号台`;
}

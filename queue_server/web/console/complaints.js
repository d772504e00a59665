// 投诉受理 (/console/complaints): read, route, answer and close complaints, overdue first, with their
// deadlines in working days of the hall's calendar. The server decides who sees what (supervisors all, a
// clerk those routed to them); the page only offers the steps the caller's role may take.

import { get, hallPath, post } from "./api.js";
import { $, bi, el, everySecond, notify, throttle, wallClock } from "./dom.js";
import { CHANNEL } from "./labels.js";
import { chooseHall, fatal, signIn, signOut, staffStream, watchAuth } from "./login.js";

const READERS = new Set(["approver", "auditor", "admin", "clerk"]); // server: SUPERVISORS + the assignee (clerk)
const ROUTERS = new Set(["approver", "admin"]); // route and close
const STATUS = {
  submitted: ["待分派", "New"],
  assigned: ["办理中", "Assigned"],
  answered: ["已答复", "Answered"],
  closed: ["已办结", "Closed"],
};
const ROLE = { clerk: ["窗口人员", "Clerk"], approver: ["审批负责人", "Approver"], admin: ["管理员", "Admin"] };
const FILTERS = [
  ["open", ["待办", "Open"]],
  ["closed", ["已办结", "Closed"]],
  ["all", ["全部", "All"]],
];
const WEEKDAY = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];
const s = { me: null, hall: null, info: null, rows: [], filter: "open", selected: null, handlers: [], categories: {} };

const pairOf = (table, key) => table[key] || [key, key];
const tz = () => (s.info && s.info.timezone) || undefined;

function localTime(iso) {
  try {
    return new Intl.DateTimeFormat("zh-CN", { timeZone: tz(), month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .format(new Date(iso));
  } catch {
    return iso.slice(5, 16).replace("T", " ");
  }
}

/** "12-11 周五" for the last day to answer (a date: the hall's working day, not an instant). */
function dueDay(day) {
  const d = new Date(`${day}T12:00:00Z`);
  return `${day.slice(5)} ${WEEKDAY[d.getUTCDay()]}`;
}

function dueText(c) {
  if (c.status === "closed") return ["已办结", "Closed"];
  if (c.overdue) {
    const n = -c.working_days_left; // working days past the deadline's day (0: it passed today or over a weekend)
    return n > 0 ? [`已逾期 ${n} 个工作日`, `Overdue by ${n} working day(s)`] : ["已逾期", "Overdue"];
  }
  if (c.working_days_left === 0) return ["今日到期", "Due today"];
  return [`剩 ${c.working_days_left} 个工作日`, `${c.working_days_left} working day(s) left`];
}

function badge(status, overdue) {
  const key = overdue ? "overdue" : status;
  const b = el("span", `badge st-${key}`, bi(overdue ? ["逾期", "Overdue"] : pairOf(STATUS, status)));
  b.dataset.status = status;
  return b;
}

function shown() {
  if (s.filter === "open") return s.rows.filter((c) => c.status !== "closed");
  if (s.filter === "closed") return s.rows.filter((c) => c.status === "closed");
  return s.rows;
}

function renderFilters() {
  $("cp-filters").replaceChildren(...FILTERS.map(([key, label]) => {
    const n = key === "open" ? s.rows.filter((c) => c.status !== "closed").length
      : key === "closed" ? s.rows.filter((c) => c.status === "closed").length : s.rows.length;
    const b = el("button", null, bi(label), ` ${n}`);
    b.type = "button";
    b.dataset.filter = key;
    b.setAttribute("aria-pressed", String(s.filter === key));
    b.onclick = () => { s.filter = key; render(); };
    return b;
  }));
}

function renderList() {
  const rows = shown();
  const late = s.rows.filter((c) => c.overdue).length;
  $("cp-summary").textContent = late ? `逾期 ${late} · ${late} overdue` : String(s.rows.filter((c) => c.status !== "closed").length);
  const items = rows.map((c) => {
    const [zh, en] = dueText(c);
    const li = el("li", `cp-item${c.overdue ? " overdue" : ""}`,
      el("span", "cp-title", `${pairOf(s.categories, c.category)[0]} · ${c.content}`),
      badge(c.status, c.overdue),
      el("span", "cp-sub", `${c.code} · ${localTime(c.created_at)} · ${pairOf(CHANNEL, c.channel)[0]}${c.handler ? ` · 经办 ${c.handler}` : ""}`),
      el("span", `cp-due${c.overdue ? " late" : ""}`, `截止 ${dueDay(c.deadline_day)} · ${zh}`, el("span", "en", en)));
    li.dataset.id = String(c.id);
    li.dataset.code = c.code;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(c.id === s.selected));
    li.onclick = () => { s.selected = c.id; render(); };
    return li;
  });
  if (items.length === 0) items.push(el("li", "empty", "没有投诉 · No complaints"));
  $("cp-list").replaceChildren(...items);
}

function fact(label, value) {
  return el("div", null, el("dt", null, bi(label)), el("dd", null, value));
}

function step(title, ...body) {
  return el("section", "cp-step", el("h4", null, bi(title)), ...body);
}

function renderDetail() {
  const box = $("cp-detail");
  const c = s.rows.find((x) => x.id === s.selected);
  if (!c) {
    box.replaceChildren(el("p", "muted", "选择左侧一条投诉 · Choose a complaint on the left."));
    return;
  }
  const [zh, en] = dueText(c);
  const who = c.anonymous ? "匿名 Anonymous" : `${c.name_masked || "—"}`;
  const via = c.reply_via === "sms"
    ? `答复以短信发送至 ${c.phone_masked} · The answer goes by SMS to ${c.phone_masked}`
    : "投诉人凭投诉编号和查询码在自助终端或网上查看答复 · The complainant reads the answer with the reference and query code (kiosk or web)";
  const parts = [
    el("div", "fd-row", el("strong", null, `${pairOf(s.categories, c.category)[0]} ${pairOf(s.categories, c.category)[1]}`), badge(c.status, c.overdue),
      el("span", "fd-code", c.code)),
    el("p", "cp-content", c.content),
    el("dl", "cp-facts",
      fact(["投诉人", "From"], who),
      fact(["手机", "Phone"], c.phone_masked || "—"),
      fact(["渠道", "Channel"], pairOf(CHANNEL, c.channel)[0]),
      fact(["提交时间", "Submitted"], localTime(c.created_at)),
      fact(["答复期限", "Answer by"], `${dueDay(c.deadline_day)}（${zh}）`),
      fact(["经办人", "Handler"], c.handler ? handlerName(c.handler) : "未分派 · not routed")),
    el("p", "fd-rule", via),
  ];
  const canRoute = ROUTERS.has(s.me.role);
  if (canRoute && (c.status === "submitted" || c.status === "assigned")) {
    const sel = el("select", null, ...s.handlers.map((h) => {
      const o = el("option", null, `${h.display_name ? `${h.display_name} (${h.username})` : h.username} · ${pairOf(ROLE, h.role)[0]}`);
      o.value = h.username;
      return o;
    }));
    sel.id = "cp-handler";
    if (c.handler) sel.value = c.handler;
    const b = el("button", "primary", bi([c.handler ? "改派" : "分派", c.handler ? "Re-route" : "Assign"]));
    b.type = "button";
    b.id = "cp-assign";
    b.onclick = () => act(b, `${c.id}/assign`, { handler: sel.value }, "已分派 · Routed");
    parts.push(step(["分派经办人", "Route to a handler"], el("div", "fd-row", sel, b)));
  }
  const mayAnswer = c.status === "assigned" && (canRoute || c.handler === s.me.name);
  if (mayAnswer) {
    const text = el("textarea", null);
    text.id = "cp-answer-text";
    text.maxLength = 1000;
    text.placeholder = "写给投诉人的答复（核实情况、整改措施）· The answer to the complainant";
    const b = el("button", "primary", bi(["答复", "Send answer"]));
    b.type = "button";
    b.id = "cp-answer";
    b.onclick = () => {
      if (!text.value.trim()) {
        notify("请填写答复内容 / The answer is empty");
        return;
      }
      act(b, `${c.id}/answer`, { answer: text.value.trim() }, "已答复 · Answered");
    };
    parts.push(step(["答复", "Answer"], text, el("div", "fd-row", b)));
  }
  if (c.answer) {
    parts.push(step(["答复内容", "Answer given"], el("p", "cp-answer", c.answer),
      c.answered_at ? el("span", "muted", `${localTime(c.answered_at)} 答复`) : null));
  }
  if (canRoute && c.status === "answered") {
    const b = el("button", "primary", bi(["办结", "Close"]));
    b.type = "button";
    b.id = "cp-close";
    b.onclick = () => act(b, `${c.id}/close`, {}, "已办结 · Closed");
    parts.push(step(["办结", "Close"], el("div", "fd-row", b)));
  }
  if (c.closed_at) parts.push(el("p", "muted", `${localTime(c.closed_at)} 办结 · closed`));
  if (s.me.role === "auditor") parts.push(el("p", "fd-rule", "监察角色只读 · Auditors read only"));
  box.replaceChildren(...parts);
  box.dataset.id = String(c.id);
  box.dataset.status = c.status;
}

function handlerName(username) {
  const h = s.handlers.find((x) => x.username === username);
  return h && h.display_name ? `${h.display_name} (${username})` : username;
}

async function act(button, path, body, done) {
  button.disabled = true;
  try {
    const c = await post(`${hallPath(s.hall)}/complaints/${path}`, body);
    s.rows = s.rows.map((x) => (x.id === c.id ? c : x));
    notify(done, "ok");
    render();
    reload();
  } catch (err) {
    notify(err.message);
    button.disabled = false;
  }
}

function render() {
  renderFilters();
  renderList();
  renderDetail();
}

async function load() {
  try {
    s.rows = await get(`${hallPath(s.hall)}/complaints`);
    if (s.selected === null && s.rows.length) s.selected = s.rows[0].id;
    render();
    document.body.dataset.loaded = String(s.rows.length);
  } catch (err) {
    if (err.status === 403) fatal(err.message);
    else notify(err.message);
  }
}

const reload = throttle(load, 1000);

async function main() {
  watchAuth();
  $("logout").onclick = signOut;
  s.me = await signIn();
  if (!READERS.has(s.me.role)) {
    fatal(`您的角色（${s.me.role}）无权查看投诉 / Your role may not see complaints`);
    return;
  }
  const [hall, cat] = await Promise.all([chooseHall(s.me), get("/api/v1/feedback/catalogue")]);
  s.categories = Object.fromEntries(cat.complaint_categories.map((x) => [x.code, [x.zh, x.en]]));
  s.hall = hall.code;
  s.info = hall.info;
  if (!s.info) {
    fatal("没有这个大厅 / No such hall");
    return;
  }
  $("hall-name").textContent = `${s.info.name} ${s.info.name_en || ""}`;
  $("user").textContent = `${s.me.name} (${s.me.role})`;
  $("cp-scope").textContent = s.me.role === "clerk"
    ? "仅显示分派给您的投诉 · Only complaints routed to you"
    : "本厅全部投诉，逾期的在前 · Every complaint of the hall, overdue first";
  if (ROUTERS.has(s.me.role)) {
    try {
      s.handlers = await get(`${hallPath(s.hall)}/complaint-handlers`);
    } catch (err) {
      notify(err.message);
    }
  }
  $("hall").hidden = false;
  await load();
  const stream = staffStream(s.hall, {
    onSnapshot: () => reload(),
    onEvent: (msg) => { if (msg.type === "complaint.changed") reload(); },
  });
  stream.start();
  everySecond(() => { $("clock").textContent = wallClock(tz()); });
}

main();

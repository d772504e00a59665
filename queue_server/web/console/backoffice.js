// The back office and output page (/console/cases): incoming hand-over lists, the deadline-ordered
// worklist with its traffic lights, and one case's detail with the decision and output forms.
// Live from the hall event stream (`case.status`); everything rendered with textContent.

import { get, hallPath, post } from "./api.js";
import { $, bi, el, notify, throttle, wallClock } from "./dom.js";
import { LIGHT, VIEWS, pair, split } from "./bo-labels.js";
import { fmt, openFile, renderCase } from "./bo-detail.js";
import { chooseHall, fatal, signIn, signOut, staffStream, watchAuth } from "./login.js";

const STAFF = new Set(["clerk", "approver", "auditor", "admin"]);
const HANDOVER_POLL_MS = 20000; // hand-over lists carry no event of their own: re-read them now and then
const s = { me: null, hall: null, tz: null, view: "running", light: "", rows: [], selected: null, loads: 0, extra: {}, members: [] };

function stop(err) {
  $("bo").hidden = true;
  fatal(err.message);
}

// ------------------------------------------------------------------ hand-over lists
async function loadHandovers() {
  const box = $("handovers");
  try {
    const lists = await get(`${hallPath(s.hall)}/handovers`);
    const open = lists.filter((h) => !h.received_at);
    const done = lists.length - open.length;
    $("handover-count").textContent = String(open.length);
    const canReceive = s.me.role === "approver" || s.me.role === "admin";
    const rows = open.map((h) => {
      const pdf = el("button", "small", bi(["清单", "PDF"]));
      pdf.type = "button";
      pdf.onclick = () => openFile(h.url);
      const take = el("button", "small primary", bi(["签收", "Receive"]));
      take.type = "button";
      take.dataset.action = "receive";
      take.hidden = !canReceive;
      take.onclick = async () => {
        take.disabled = true;
        try {
          await post(`${hallPath(s.hall)}/handovers/${encodeURIComponent(h.number)}/receive`);
          notify(`已签收移交清单 · Received ${h.number}`, "ok");
        } catch (err) {
          notify(err.message);
        }
        loadHandovers();
        reload();
      };
      const li = el("li", "bo-handover",
        el("div", "bo-ho-main", el("b", null, h.number),
          el("span", "muted", `${fmt(h.created_at, s.tz)} · ${h.created_by_name} · ${h.cases.length} 件 cases`),
          el("span", "bo-ho-cases", h.cases.join("  "))),
        el("div", "bo-ho-act", pdf, take));
      li.dataset.handover = h.number;
      return li;
    });
    const empty = rows.length ? null : el("li", "more", "没有待接收的移交清单 · Nothing to receive");
    const foot = done ? el("li", "more", `已签收 ${done} 份 · ${done} received`) : null;
    box.replaceChildren(el("ul", "bo-ho-list", ...rows, empty, foot));
  } catch (err) {
    if (err.status === 403) return stop(err);
    box.replaceChildren(el("p", "error", err.message));
  }
}

// ------------------------------------------------------------------ worklist
function listPath() {
  const view = VIEWS.find((v) => v[0] === s.view);
  if (!view || !view[2]) return `${hallPath(s.hall)}/worklist`;
  const q = new URLSearchParams();
  for (const st of view[2]) q.append("status", st);
  return `${hallPath(s.hall)}/cases?${q}`;
}

function dueCell(r) {
  if (!r.light) return el("td", "bo-due muted", r.deadline ? el("span", "bo-deadline", r.deadline) : "—", bi(["时限已停", "clock stopped"]));
  const left = r.days_left;
  const text = left < 0 ? [`超期 ${-left} 个工作日`, `${-left} wd overdue`]
    : left === 0 ? ["今日到期", "due today"] : [`剩 ${left} 个工作日`, `${left} wd left`];
  return el("td", "bo-due", el("span", "bo-deadline", r.deadline), bi(text, "bi bo-left-days"));
}

function renderList() {
  const rows = s.rows.filter((r) => !s.light || r.light === s.light);
  $("worklist-count").textContent = String(rows.length);
  const body = $("worklist");
  if (rows.length === 0) {
    body.replaceChildren(el("tr", null, el("td", "empty", "没有办件 · No cases")));
    body.firstChild.firstChild.colSpan = 5;
    return;
  }
  body.replaceChildren(...rows.map((r) => {
    const [zh] = r.light ? pair(LIGHT, r.light) : ["", ""];
    const dot = el("span", `dot light-${r.light || "none"}`);
    dot.title = zh;
    const tr = el("tr", "bo-row",
      el("td", null, dot),
      el("td", "bo-num", el("b", null, r.number), el("small", null, split(r.status_label)[0], r.handed_over ? "" : " · 未移交"),
        r.chain ? el("small", "bo-chain-tag", `一链 ${r.chain}`) : null),
      el("td", "bo-item", el("span", "clip-wide", r.item_name)),
      el("td", null, r.applicant_masked),
      dueCell(r));
    tr.dataset.number = r.number;
    tr.dataset.light = r.light || "";
    tr.dataset.status = r.status;
    tr.tabIndex = 0;
    if (r.number === s.selected) tr.classList.add("selected");
    tr.onclick = () => select(r.number);
    tr.onkeydown = (e) => { if (e.key === "Enter") select(r.number); };
    return tr;
  }));
}

async function loadList() {
  const mine = ++s.loads;
  try {
    const rows = await get(listPath());
    if (mine !== s.loads) return;
    s.rows = rows;
    renderList();
    document.body.dataset.loaded = String(mine);
  } catch (err) {
    if (err.status === 403 || err.status === 404) stop(err);
    else notify(err.message);
  }
}

// ------------------------------------------------------------------ case detail
async function loadCase() {
  if (!s.selected) return;
  const number = s.selected;
  try {
    const view = await get(`/api/v1/cases/${encodeURIComponent(number)}`);
    if (number !== s.selected) return;
    s.members = view.chain ? view.chain.members.map((m) => m.number) : []; // 一链办理: their changes redraw it
    // an event's reload that brings nothing new keeps the view as it is: a reason being typed or an open
    // confirmation (准予/不予许可) is not wiped by another change in the hall
    const shown = JSON.stringify([number, view, s.extra]);
    if (shown === s.shown) return;
    s.shown = shown;
    $("detail-number").textContent = number;
    renderCase($("case"), view, ctx());
  } catch (err) {
    notify(err.message);
  }
}

function select(number) {
  if (number !== s.selected) s.extra = {};
  s.selected = number;
  for (const tr of document.querySelectorAll("#worklist tr.bo-row")) tr.classList.toggle("selected", tr.dataset.number === number);
  loadCase();
}

function ctx() {
  return {
    me: s.me,
    tz: s.tz,
    extra: s.extra,
    openFile,
    select, // another member of the case's chain (一链办理)
    /** POST an action or an output call, keep what it answers only once, and show the case again. */
    async act(path, body, ok) {
      try {
        const res = await post(path, body);
        if (ok) ok(res);
        await Promise.all([loadCase(), loadList()]);
        return res;
      } catch (err) {
        notify(err.message);
        return null;
      }
    },
  };
}

const reload = throttle(() => loadList(), 500);
const reloadCase = throttle(() => loadCase(), 500);

function onEvent(msg) {
  if (msg.type !== "case.status" || !msg.data) return;
  reload();
  if (msg.data.number === s.selected || s.members.includes(msg.data.number)) reloadCase();
  if (msg.data.status === "accepted" || msg.data.status === "in_review") loadHandovers();
}

// ------------------------------------------------------------------ start
function bindFilters() {
  const sel = $("f-view");
  sel.replaceChildren(...VIEWS.map(([key, [zh, en]]) => {
    const o = el("option", null, `${zh} · ${en}`);
    o.value = key;
    return o;
  }));
  sel.value = s.view;
  const lights = () => { $("f-light").hidden = s.view !== "running"; }; // only timed cases have a light
  lights();
  sel.onchange = () => {
    s.view = sel.value;
    s.light = "";
    for (const x of $("f-light").querySelectorAll("button")) x.setAttribute("aria-pressed", String(!x.dataset.light));
    lights();
    loadList();
  };
  for (const b of $("f-light").querySelectorAll("button")) {
    b.onclick = () => {
      s.light = b.dataset.light;
      for (const x of $("f-light").querySelectorAll("button")) x.setAttribute("aria-pressed", String(x === b));
      renderList();
    };
  }
}

async function main() {
  watchAuth();
  $("logout").onclick = signOut;
  s.me = await signIn();
  if (!STAFF.has(s.me.role)) {
    fatal("仅限大厅工作人员 / For hall staff only");
    return;
  }
  const params = new URLSearchParams(location.search);
  const { code, info: hall } = await chooseHall(s.me);
  s.hall = code;
  s.tz = hall ? hall.timezone : undefined;
  $("hall-name").textContent = hall ? `${hall.name} ${hall.name_en || ""}` : s.hall;
  // clerks start at the output stage, the others at the timed worklist; ?view= and ?case= pick directly
  s.view = params.get("view") || (s.me.role === "clerk" ? "decided" : "running");
  $("user").textContent = `${s.me.name} (${s.me.role})`;
  bindFilters();
  document.title = `办件审批与出件 · ${hall ? hall.name : s.hall}`;
  await loadList();
  if ($("fatal").hidden === false) return;
  $("bo").hidden = false;
  loadHandovers();
  setInterval(loadHandovers, HANDOVER_POLL_MS);
  if (params.get("case")) select(params.get("case"));
  const stream = staffStream(s.hall, {
    onSnapshot: (msg) => {
      document.body.dataset.seq = String(msg.seq); // tests wait for it before changing cases behind the page
      reload();
      reloadCase();
    },
    onEvent,
  }, (text) => stop(new Error(text)));
  stream.start();
  const clock = () => { $("clock").textContent = wallClock(s.tz); };
  clock();
  setInterval(clock, 1000);
}

main();

// "办件 Cases" panel of the clerk console (收件受理, issue 8): the called citizen's cases (found by the
// ticket's ID number), opening one by its number, starting one at the counter, and the hand-over lists.
// Keys (the console's F1–F9 stay as they are; nothing fires while typing): Alt+N new case, Alt+H
// hand-over, Alt+W 网上预审 (web cases to pre-review), Alt+O open the newest case listed (not Alt+digit:
// Chrome on Linux switches tabs with it).

import { bi, el } from "./dom.js";
import { typing } from "./keys.js";
import { addPanel } from "./panels.js";
import { startCase } from "./cases-new.js";
import { refreshShown, showCase, statusBadge } from "./cases-view.js";
import { showHandover } from "./handover.js";
import { showPrereview } from "./cases-prelist.js";

const REFRESH_MS = 5000;
const st = { ctx: null, ticket: null, cases: [], fetched: 0, seq: null, box: null, loading: false };

function context() {
  return st.ctx;
}

function open(number) {
  return showCase(number, context(), refresh);
}

async function refresh() {
  const t = st.ticket;
  if (!t) {
    st.cases = [];
    draw();
    return;
  }
  st.loading = true;
  try {
    const cases = await context().get(`/api/v1/tickets/${t.id}/cases`);
    if (st.ticket && st.ticket.id === t.id) st.cases = cases;
  } catch (err) {
    context().notify(err.message);
  } finally {
    st.loading = false;
    st.fetched = Date.now();
    draw();
  }
}

function caseItem(c, i) {
  const b = el("button", "case-open", bi(["打开", "Open"]));
  b.type = "button";
  b.onclick = () => open(c.number);
  const li = el("li", "case-line",
    el("span", "cl-key", i === 0 ? "Alt+O" : ""),
    el("div", "cl-main", el("b", "cl-number", c.number), el("span", "cl-item", c.item_name)),
    statusBadge(c.status, c.status_label, true), b);
  li.dataset.number = c.number;
  li.dataset.status = c.status;
  return li;
}

function draw() {
  const box = st.box;
  if (!box) return;
  const t = st.ticket;
  const list = box.querySelector(".ticket-cases");
  let head;
  if (!t) head = el("p", "muted", "叫号后显示该群众已提交的办件 · The called citizen's cases show here");
  else if (!t.id_number_masked) head = el("p", "muted", `${t.number} 未登记证件号码，可按编号打开或在窗口新建 · No ID number on ${t.number}: open by number or start one`);
  else head = el("p", "tc-head", `${t.number} · ${t.id_number_masked}`, st.loading ? el("span", "muted", " 查询中… Loading") : null);
  const lines = st.cases.map(caseItem);
  if (t && t.id_number_masked && !st.loading && !lines.length) lines.push(el("li", "empty", "该群众在本大厅没有办件 · No cases in this hall"));
  list.replaceChildren(head, el("ul", "case-lines", ...lines));
  box.dataset.ticket = t ? String(t.id) : "";
  box.dataset.count = String(st.cases.length);
}

function mount(box, ctx) {
  st.ctx = ctx;
  st.box = box;
  box.classList.add("cases-panel");
  const start = el("button", "cases-start", bi(["在窗口新建", "Start a case at the counter"]), el("kbd", null, "Alt+N"));
  start.type = "button";
  start.onclick = () => startCase(context(), open);
  const hand = el("button", "cases-handover", bi(["移交清单", "Hand-over"]), el("kbd", null, "Alt+H"));
  hand.type = "button";
  hand.onclick = () => showHandover(context(), open);
  const num = el("input", "case-number");
  num.id = "case-number";
  num.placeholder = "办件编号 Case number";
  num.maxLength = 32;
  num.spellcheck = false;
  num.autocomplete = "off";
  const go = el("button", null, bi(["打开", "Open"]));
  go.type = "submit";
  const find = el("form", "case-find", num, go);
  find.onsubmit = (e) => {
    e.preventDefault();
    const n = num.value.trim().toUpperCase();
    if (n) open(n).then((ok) => { if (ok) num.value = ""; });
  };
  const pre = el("button", "cases-prereview", bi(["网上预审", "Online pre-review"]), el("kbd", null, "Alt+W"));
  pre.type = "button";
  pre.onclick = () => showPrereview(context(), open);
  box.append(el("div", "ticket-cases"), el("div", "cases-tools", start, hand, pre), find);
  addEventListener("keydown", onKey);
  loadZone(ctx);
  update(box, ctx);
}

async function loadZone(ctx) {
  try {
    const halls = await ctx.get("/api/v1/halls");
    const h = halls.find((x) => x.code === ctx.hall);
    st.tz = h ? h.timezone : undefined;
  } catch {
    st.tz = undefined;
  }
}

function update(box, ctx) {
  st.ctx = { ...ctx, tz: st.tz };
  const cur = ctx.desk && ctx.desk.current;
  const changed = (cur ? cur.id : null) !== (st.ticket ? st.ticket.id : null);
  st.ticket = cur || null;
  if (changed) {
    st.cases = [];
    refresh();
  } else if (cur && cur.id_number_masked && ctx.desk.seq !== st.seq && Date.now() - st.fetched > REFRESH_MS) {
    refresh();
  }
  if (ctx.desk && st.seq !== null && ctx.desk.seq !== st.seq) refreshShown();
  st.seq = ctx.desk ? ctx.desk.seq : null;
  draw();
}

function onKey(e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || typing(e.target) || !st.box || document.querySelector("dialog[open]")) return;
  if (document.getElementById("desk").hidden) return;
  const k = e.key.toLowerCase();
  if (k === "n") startCase(context(), open);
  else if (k === "h") showHandover(context(), open);
  else if (k === "w") showPrereview(context(), open);
  else if (k === "o" && st.cases.length) open(st.cases[0].number);
  else return;
  e.preventDefault();
}

addPanel({ id: "cases", title: ["办件", "Cases"], mount, update });

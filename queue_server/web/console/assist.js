// 帮办代办台账 (/console/assist): the month's records and statistics, recording one (the window's clerks),
// the key projects with their milestones, and the month as CSV or Excel. Persons are shown masked.

import { get, hallPath, post, token } from "./api.js";
import { $, bi, el, notify } from "./dom.js";
import { chooseHall, fatal, signIn, signOut, watchAuth } from "./login.js";

const READERS = new Set(["clerk", "approver", "auditor", "admin"]);
const WRITERS = new Set(["clerk", "admin"]);
const KIND = { assist: ["帮办", "Assisted"], proxy: ["代办", "Proxy"] };
const OUTCOME = { done: ["办结", "Done"], referred: ["转办", "Referred"], pending: ["办理中", "Pending"], advice: ["咨询指导", "Advice"] };
const HEAD = [["日期", "Date"], ["类型", "Kind"], ["帮办代办员", "Staff"], ["服务对象", "Person"], ["企业或项目", "Organisation"],
  ["事项", "Item"], ["用时(分)", "Min"], ["结果", "Outcome"], ["备注", "Note"]];
const s = { me: null, hall: null };

const month = () => $("month").value;
const q = () => `?month=${encodeURIComponent(month())}`;

function stat(label, value) {
  return el("div", "as-stat", bi(label), el("b", null, value === null || value === undefined ? "—" : String(value)));
}

function renderStats(st) {
  $("as-stats").replaceChildren(
    stat(["件数", "Records"], st.records),
    stat(["帮办", "Assisted"], st.by_kind.assist || 0),
    stat(["代办", "Proxy"], st.by_kind.proxy || 0),
    stat(["办结率", "Done"], st.done_rate === null ? null : `${Math.round(st.done_rate * 100)}%`),
    stat(["总用时(分)", "Minutes"], st.minutes_total),
    stat(["平均用时(分)", "Mean min"], st.minutes_mean),
    stat(["服务企业", "Organisations"], st.organisations),
    stat(["在办重点项目", "Active projects"], st.projects_active),
    stat(["本月到期节点", "Milestones due"], st.milestones_due),
    stat(["逾期节点", "Late"], st.milestones_late));
}

function renderTable(rows) {
  $("as-count").textContent = String(rows.length);
  $("as-table").querySelector("thead").replaceChildren(el("tr", null, ...HEAD.map((h) => el("th", null, bi(h)))));
  $("as-table").querySelector("tbody").replaceChildren(...rows.map((r) => el("tr", null,
    el("td", null, r.day), el("td", null, KIND[r.kind][0]), el("td", null, r.staff), el("td", null, r.person),
    el("td", null, r.project || r.organisation), el("td", null, r.item), el("td", null, String(r.minutes)),
    el("td", null, OUTCOME[r.outcome][0]), el("td", null, r.note))));
}

function renderProjects(list) {
  $("as-projects").replaceChildren(...(list.length ? list.map((p) => el("div", "as-project",
    el("strong", null, p.name), ` · ${p.organisation} · ${p.owner} · `,
    bi(p.status === "done" ? ["已办结", "Done"] : ["代办中", "Active"]),
    el("ol", null, ...p.milestones.map((m) => el("li", m.late ? "as-late" : null,
      `${m.name}：${m.due} 到期`, m.done_on ? ` · ${m.done_on} 完成` : " · 未完成", m.late ? " · 逾期" : ""))))) :
    [el("p", "muted", "暂无重点项目 · No key projects")]));
}

async function load() {
  const base = hallPath(s.hall);
  const [rows, st, projects] = await Promise.all([
    get(`${base}/assist/records${q()}`), get(`${base}/assist/stats${q()}`), get(`${base}/assist/projects`)]);
  renderStats(st);
  renderTable(rows);
  renderProjects(projects);
  document.body.dataset.loaded = month();
}

async function download(fmt) {
  // a file behind the token: fetched, then saved from a blob (a plain link would carry no Authorization)
  const r = await fetch(`${hallPath(s.hall)}/assist/records.${fmt}${q()}`, { headers: { Authorization: `Bearer ${token()}` } });
  if (!r.ok) { notify(`导出失败 / Export failed (${r.status})`); return; }
  const a = el("a");
  a.href = URL.createObjectURL(await r.blob());
  a.download = `assist-ledger-${s.hall}-${month()}.${fmt}`;
  document.body.append(a);
  a.click();
  a.remove();
}

async function add(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = Object.fromEntries([...f.entries()].filter(([, v]) => v !== ""));
  body.minutes = Number(body.minutes);
  try {
    await post(`${hallPath(s.hall)}/assist/records`, body);
    ev.target.reset();
    notify("已登记 · Recorded", "ok");
    await load();
  } catch (err) {
    notify(err.message);
  }
}

async function main() {
  watchAuth();
  $("logout").onclick = signOut;
  s.me = await signIn();
  if (!READERS.has(s.me.role)) {
    fatal(`您的角色（${s.me.role}）无权查看台账 / Your role may not see the ledger`);
    return;
  }
  const hall = await chooseHall(s.me);
  if (!hall.info) { fatal("没有这个大厅 / No such hall"); return; }
  s.hall = hall.code;
  $("hall-name").textContent = `${hall.info.name} ${hall.info.name_en || ""}`;
  $("user").textContent = `${s.me.name} (${s.me.role})`;
  $("month").value = new URLSearchParams(location.search).get("month") || new Date().toISOString().slice(0, 7);
  $("month").onchange = () => load();
  $("export-csv").onclick = () => download("csv");
  $("export-xlsx").onclick = () => download("xlsx");
  $("as-add-panel").hidden = !WRITERS.has(s.me.role);
  $("as-add").onsubmit = add;
  $("hall").hidden = false;
  await load();
}

main();

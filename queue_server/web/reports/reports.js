// The supervisors' statistics page: overview cards, four charts (Chart.js, vendored) and the detail table,
// for any date range and grouping, with CSV/XLSX export and the open bad-review follow-ups.
import { CARD, COLUMNS, FU, GROUPS, NEXT_STEP, PRESETS, STEP_LABEL, TEXT } from "./strings.js";
import { signIn, signOut, watchAuth } from "/static/console/login.js"; // one sign-in for the staff pages

const TOKEN_KEY = "hall.staff.token"; // the console's (api.js)
const $ = (id) => document.getElementById(id);
const both = ([zh, en]) => `${zh} / ${en}`;
const charts = {};
let hall = null;
let me = null;
let labels = { levels: {}, reasons: {}, states: {} }; // catalogue code → "中文"

// ------------------------------------------------------------------ HTTP

async function call(path, opts = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
  const r = await fetch(path, { ...opts, headers: { ...headers, ...(opts.headers || {}) }, credentials: "omit" });
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    dispatchEvent(new CustomEvent("auth-lost")); // back to the login form (watchAuth)
    throw new Error("401");
  }
  if (!r.ok) {
    let detail = `HTTP ${r.status}`;
    try {
      const d = (await r.json()).detail;
      detail = typeof d === "string" ? d : JSON.stringify(d);
    } catch {
      /* not JSON */
    }
    throw new Error(detail);
  }
  return r;
}

const api = (path) => call(path).then((r) => r.json());
const base = () => `/api/v1/halls/${encodeURIComponent(hall)}`;

// ------------------------------------------------------------------ formatting

function fmt(v, kind) {
  if (v === null || v === undefined) return TEXT.none[0];
  if (kind === "s") return (v / 60).toFixed(1);
  if (kind === "p") return `${(v * 100).toFixed(1)}%`;
  if (kind === "l") return ["5", "4", "3", "2", "1"].map((k) => v[k] || 0).join(" / ");
  return String(v);
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function heading(zh, en, unit) {
  const th = el("th", zh);
  th.append(el("span", unit ? `${en} (${unit})` : en, "en"));
  return th;
}

const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

function preset(name) {
  const now = new Date();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = (n) => new Date(today.getFullYear(), today.getMonth(), today.getDate() + n);
  if (name === "today") return [today, today];
  if (name === "yesterday") return [days(-1), days(-1)];
  if (name === "week") return [days(-6), today];
  if (name === "month") return [days(-29), today]; // 近30天: today included
  const first = new Date(today.getFullYear(), today.getMonth() - 1, 1);
  return [first, new Date(today.getFullYear(), today.getMonth(), 0)];
}

// ------------------------------------------------------------------ rendering

function card(id, figures, keys) {
  const dl = $(id);
  dl.replaceChildren();
  for (const k of keys) {
    const dt = el("dt", CARD[k][0]);
    dt.append(el("span", CARD[k][1], "en"));
    const kind = k.endsWith("_s") ? "s" : k.endsWith("_rate") ? "p" : "n";
    const dd = el("dd", fmt(figures[k], kind));
    dd.dataset.key = k;
    if (kind === "s" && figures[k] !== null) dd.append(el("small", ` ${TEXT.min[0]}`));
    if ((k === "followups_overdue" || k === "red") && figures[k] > 0) dd.className = "alarm";
    if (k === "green" || k === "yellow") dd.className = k;
    dl.append(dt, dd);
  }
}

function chart(id, type, labels, datasets, yMax) {
  const data = { labels, datasets };
  if (charts[id]) {
    charts[id].data = data;
    charts[id].update();
    return;
  }
  charts[id] = new Chart($(id), {
    type,
    data,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom" } },
      scales: { y: { beginAtZero: true, ...(yMax ? { max: yMax } : {}) } },
    },
  });
}

function renderTable(report, group) {
  const table = $("summary");
  const head = el("tr");
  for (const [f, zh, en, kind] of COLUMNS) {
    const th = heading(zh, en, kind === "s" ? TEXT.min[1] : "");
    if (f === "levels") th.title = both(TEXT.levelsHint);
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  const names = report.labels || {}; // the server's names of the keys (1号窗口, 王芳, A 市场准入 …)
  const label = (key) => (key ? names[key] || (group === "window" ? both(TEXT.win).replaceAll("{n}", key) : key) : both(TEXT.notCalled));
  const row = (r, first) => {
    const tr = el("tr");
    tr.dataset.key = r.key;
    for (const [f, , , kind] of COLUMNS) {
      const td = el("td", f === "key" ? first : fmt(r[f], kind));
      td.dataset.field = f;
      tr.append(td);
    }
    return tr;
  };
  table.tBodies[0].replaceChildren(...report.rows.map((r) => row(r, label(r.key))));
  table.tFoot.replaceChildren(row({ ...report.total, key: "total" }, both(TEXT.total)));
  $("exact").textContent = `(${both(report.exact ? TEXT.exact : TEXT.rollup)})`;
}

async function renderFollowups() {
  const rows = await api(`${base()}/followups?open=true`);
  const table = $("followups");
  const head = el("tr");
  for (const k of Object.keys(FU)) head.append(heading(FU[k][0], FU[k][1]));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(
    ...rows.map((f) => {
      const tr = el("tr");
      tr.dataset.id = f.id;
      if (f.overdue) tr.className = "overdue";
      const e = f.evaluation;
      const deadline = lastDay(f.deadline);
      const reasons = e.reasons.map((r) => labels.reasons[r] || r).join("、");
      for (const v of [e.ticket_number || e.case_number, e.window ?? "", e.clerk ?? "", labels.levels[e.level] || e.level, reasons])
        tr.append(el("td", String(v)));
      const dl = el("td", deadline);
      if (f.overdue) dl.append(el("span", both(TEXT.overdue), "badge"));
      tr.append(dl, el("td", labels.states[f.status] || f.status));
      const step = NEXT_STEP[f.status];
      const act = el("td");
      if (step && (me.role === "approver" || me.role === "admin")) {
        const b = el("button", both(STEP_LABEL[step]));
        b.type = "button";
        b.addEventListener("click", () => advance(f.id, step));
        act.append(b);
      }
      tr.append(act);
      return tr;
    }),
  );
  $("followups-empty").hidden = rows.length > 0;
}

/** A deadline at midnight is the end of the day before: show that last day, not "next day 00:00". */
function lastDay(at) {
  const [day, time] = at.split("T");
  if (!time.startsWith("00:00")) return at.slice(0, 16).replace("T", " ");
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

async function advance(id, step) {
  const note = step === "close" ? "" : prompt(both(TEXT.note));
  if (note === null) return;
  try {
    await call(`${base()}/followups/${id}/${step}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ note }),
    });
  } catch (e) {
    $("status").textContent = e.message;
  }
  await Promise.all([renderFollowups(), renderOverview()]);
}

async function renderOverview() {
  const o = await api(`${base()}/reports/overview`);
  const keys = ["tickets", "wait_mean_s", "wait_p90_s", "good_rate", "bad_rate"];
  card("card-today", o.today.figures, keys);
  card("card-month", o.last_30_days.figures, keys);
  card("card-open", o.open, ["followups_open", "followups_overdue", "complaints_open"]);
  const cases = await api(`${base()}/reports/cases`);
  card("card-cases", cases.running, ["green", "yellow", "red"]);
}

/** A clerk's own figures (`/reports/mine`): served, mean handling time and ratings, today and this week. */
async function renderMine() {
  try {
    const m = await api(`${base()}/reports/mine`);
    const keys = ["served", "service_mean_s", "evaluations", "good_rate", "bad_rate"];
    $("mine-who").textContent = me.display_name || me.name;
    $("mine-week-range").textContent = `${m.week.from} – ${m.week.to}`;
    for (const [id, part] of [["mine-today", m.today], ["mine-week", m.week]]) {
      card(id, part.figures, keys);
      const levels = ["5", "4", "3", "2", "1"].map((k) => `${(labels.levels[k] || k).split(" ")[0]} ${part.figures.levels[k] || 0}`);
      $(`${id}-levels`).textContent = levels.join(" · ");
    }
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    if (e.message !== "401") $("clerk-only-text").textContent = e.message;
  }
}

function range() {
  return `from=${$("from").value}&to=${$("to").value}`;
}

async function refresh() {
  $("status").textContent = both(TEXT.loading);
  const group = $("group").value;
  const q = range();
  try {
    const [summary, hours, days, util, ql] = await Promise.all([
      api(`${base()}/reports/summary?${q}&group=${group}`),
      api(`${base()}/reports/summary?${q}&group=hour`),
      api(`${base()}/reports/summary?${q}&group=day`),
      api(`${base()}/reports/utilisation?${q}`),
      api(`${base()}/reports/queue-length?date=${$("to").value}`),
      renderOverview(),
      renderFollowups(),
    ]);
    renderTable(summary, group);
    $("ql-date").textContent = ql.date;
    chart("chart-queue", "line", ql.points.map((p) => p.at), [
      { label: both(TEXT.waiting), data: ql.points.map((p) => p.waiting), borderColor: "#2563eb", backgroundColor: "rgba(37,99,235,0.15)", fill: true, stepped: true, pointRadius: 0 },
    ]);
    const minutes = (v) => (v === null ? null : +(v / 60).toFixed(1));
    chart("chart-hours", "bar", hours.rows.map((r) => `${r.key}:00`), [
      { label: both(TEXT.mean), data: hours.rows.map((r) => minutes(r.wait_mean_s)), backgroundColor: "#60a5fa" },
      { label: both(TEXT.p90), data: hours.rows.map((r) => minutes(r.wait_p90_s)), backgroundColor: "#f59e0b" },
    ]);
    chart("chart-windows", "bar", util.windows.map((w) => both(TEXT.win).replaceAll("{n}", w.window)), [
      { label: both(TEXT.util), data: util.windows.map((w) => +(w.utilisation * 100).toFixed(1)), backgroundColor: "#34d399" },
    ]);
    chart("chart-satisfaction", "line", days.rows.map((r) => r.key.slice(5)), [
      { label: both(TEXT.sat), data: days.rows.map((r) => (r.good_rate === null ? null : +(r.good_rate * 100).toFixed(1))), borderColor: "#16a34a", backgroundColor: "#16a34a", spanGaps: true },
    ], 100);
    $("status").textContent = "";
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    if (e.message !== "401") $("status").textContent = e.message;
  }
}

async function download(fmtName) {
  const r = await call(`${base()}/reports/summary.${fmtName}?${range()}&group=${$("group").value}`);
  const blob = await r.blob();
  const name = (r.headers.get("content-disposition") || "").match(/filename="([^"]+)"/);
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = name ? name[1] : `report.${fmtName}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ------------------------------------------------------------------ start-up

async function enter() {
  me = await signIn();
  const halls = await (await fetch("/api/v1/halls")).json();
  const cat = await (await fetch("/api/v1/feedback/catalogue")).json();
  const pairs = (list) => Object.fromEntries(list.map((x) => [x.code, `${x.zh} ${x.en}`]));
  labels = { levels: pairs(cat.levels), reasons: pairs(cat.reasons), states: pairs(cat.followup_states) };
  const mine = me.hall ? halls.filter((h) => h.code === me.hall) : halls;
  $("hall").replaceChildren(...mine.map((h) => new Option(`${h.name} / ${h.name_en || h.code}`, h.code)));
  hall = $("hall").value;
  $("user").textContent = me.display_name || me.name;
  $("logout").hidden = false;
  if (me.role === "clerk") {
    // The hall's figures are the supervisors'; a clerk sees their own, today and this week.
    $("clerk-only").hidden = false;
    $("clerk-only-text").textContent = both(TEXT.clerkOnly);
    await renderMine();
    return;
  }
  $("main").hidden = false;
  await refresh();
}

function setup() {
  for (const [code, zh, en] of GROUPS) $("group").append(new Option(`${zh} / ${en}`, code));
  $("group").value = "window";
  for (const [code, zh, en] of PRESETS) {
    const b = el("button", zh);
    b.type = "button";
    b.dataset.preset = code;
    b.append(el("span", en, "en"));
    b.addEventListener("click", () => {
      const [a, z] = preset(code);
      $("from").value = iso(a);
      $("to").value = iso(z);
      refresh();
    });
    $("presets").append(b);
  }
  const [a, z] = preset("today");
  $("from").value = iso(a);
  $("to").value = iso(z);
  for (const id of ["from", "to", "group"]) $(id).addEventListener("change", refresh);
  $("hall").addEventListener("change", () => {
    hall = $("hall").value;
    refresh();
  });
  $("csv").addEventListener("click", () => download("csv"));
  $("xlsx").addEventListener("click", () => download("xlsx"));
  $("logout").addEventListener("click", signOut);
  watchAuth();
  enter();
}

setup();

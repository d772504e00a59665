// The case window of the clerk console (收件受理): one case with its applicant (masked; shown in full only on
// request, audited), the material checklist of its situation next to the uploaded files, the documents and
// the history, and the outcome buttons the server allows (`actions`), each opening its form.

import { bi, el } from "./dom.js";
import { fileUrl, forgetFiles, openTab, postForm, saveAs } from "./cases-api.js";
import { CHANNEL, DOC_KIND, LIGHT, OUTCOMES, ROLE, pair, split } from "./cases-labels.js";
import { outcomeForm } from "./cases-forms.js";
import { actionPath, CARD_CHECKED, cardCheck, prereviewSection } from "./cases-preforms.js";

const UPLOAD_STATES = ["submitted", "needs_more", "accepted_pending_supplement"];
let dlg = null;
let shown = null; // the open case: {number, view, revealed, form, formEl, issued, ctx, changed, at}

/** "YYYY-MM-DD HH:MM" of an ISO instant in the hall's timezone. */
export function when(iso, tz) {
  if (!iso) return "—";
  try {
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
      timeZone: tz || undefined, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  } catch {
    return iso.slice(0, 16).replace("T", " ");
  }
}

/** The status of a case as a coloured badge (the server's "中文 / English" label). */
export function statusBadge(status, label, compact = false) {
  const [zh, en] = split(label);
  const b = el("span", `case-status st-${status}`, compact ? zh : bi([zh, en]));
  if (compact) b.title = en;
  b.dataset.status = status;
  return b;
}

/** The one dialog every case view, form and list of this module uses (created on first use). */
export function caseDialog() {
  if (dlg) return dlg;
  dlg = el("dialog", "case-dialog");
  dlg.id = "case-dialog";
  const close = el("button", "cd-close", bi(["关闭", "Close"]), " ", el("kbd", null, "Esc"));
  close.type = "button";
  close.onclick = () => dlg.close();
  dlg.append(el("header", "cd-head", el("div", "cd-title"), close), el("p", "cd-say"), el("div", "cd-body"));
  dlg.querySelector(".cd-say").hidden = true;
  dlg.addEventListener("close", () => {
    forgetFiles();
    shown = null;
    dlg.querySelector(".cd-body").replaceChildren(); // nothing revealed stays in the page
  });
  document.body.append(dlg);
  return dlg;
}

/** Put a title and content in the case dialog and show it. */
export function showDialog(title, ...content) {
  const d = caseDialog();
  d.querySelector(".cd-title").replaceChildren(...title);
  d.querySelector(".cd-body").replaceChildren(...content);
  say("");
  if (!d.open) d.showModal();
  return d;
}

/** A message inside the dialog (the page's own status line is under it). */
export function say(text, kind = "error") {
  const p = caseDialog().querySelector(".cd-say");
  p.textContent = text;
  p.className = `cd-say ${kind}`;
  p.hidden = !text;
}

/** Fetch a file of the API and open it in a new tab; returns its blob: address. */
export async function openFile(path) {
  const url = await fileUrl(path);
  if (!openTab(url)) say("浏览器拦截了新窗口，请点“打印” · The browser blocked the new tab: use Open / print", "ok");
  return url;
}

/** 打印 and 下载 buttons of a document (fetched with the token on first use); `auto` opens it at once. */
export function docLinks(path, filename, auto = false) {
  const open = el("button", "doc-open", bi(["打印", "Open / print"]));
  open.type = "button";
  open.onclick = () => openFile(path).catch((err) => say(err.message));
  const down = el("button", "doc-download", bi(["下载", "Download"]));
  down.type = "button";
  down.onclick = () => fileUrl(path).then((url) => saveAs(url, filename)).catch((err) => say(err.message));
  if (auto) open.click();
  return el("span", "doc-links", open, down);
}

function docRow(number, d, auto) {
  const li = el("li", "doc", el("b", null, pair(DOC_KIND, d.kind)[0]), el("span", "en", pair(DOC_KIND, d.kind)[1]),
    el("span", "doc-no", d.document_no), docLinks(d.url, `${number}-${d.kind}.pdf`, auto));
  li.dataset.kind = d.kind;
  return li;
}

function applicant(v, revealed) {
  const r = revealed;
  const row = (label, value) => el("div", "fact", el("dt", null, bi(label)), el("dd", "pii", value || "—"));
  const facts = el("dl", "facts case-person",
    row(["申请人", "Applicant"], r ? r.name : v.applicant_masked),
    row(["证件号码", "ID number"], r ? r.id_number : v.id_number_masked),
    row(["手机", "Phone"], r ? r.phone : v.phone_masked));
  const btn = el("button", "reveal-case", r ? bi(["隐藏", "Hide"]) : bi(["查看完整信息", "Show in full"]));
  btn.type = "button";
  btn.onclick = async () => {
    if (shown.revealed) {
      shown.revealed = null;
      return render();
    }
    try {
      shown.revealed = await shown.ctx.post(`/api/v1/cases/${encodeURIComponent(v.number)}/reveal`);
      render();
    } catch (err) {
      say(err.message);
    }
  };
  const box = el("section", "case-sec", el("h4", null, bi(["申请人", "Applicant"])), facts,
    el("div", "reveal-row", btn, el("span", "audit-note", r ? "查看已记录 · This look is recorded" : "查看将被记录 · Looking is recorded")));
  if (r && r.form && Object.keys(r.form).length) {
    box.append(el("dl", "form-answers", ...Object.entries(r.form).map(([k, val]) =>
      el("div", null, el("dt", null, k), el("dd", null, val === null ? "—" : String(val))))));
  }
  return box;
}

/** The situation's materials of a case view: [{code, name, ...}] (empty when the situation is unknown). */
export function checklist(v) {
  const sit = ((v.item_detail && v.item_detail.situations) || []).find((x) => x.code === v.situation);
  return sit ? sit.materials : [];
}

function materials(v) {
  const files = v.materials || [];
  const list = checklist(v);
  const fileButtons = (code) => files.filter((f) => f.material === code).map((f, i) => {
    const b = el("button", "file-open", `${f.content_type === "application/pdf" ? "PDF" : "图片"} ${i + 1}`);
    b.type = "button";
    b.title = `${f.content_type} · ${Math.ceil(f.size / 1024)} KB · 打开 Open`;
    b.dataset.material = f.material;
    b.onclick = () => openFile(`/api/v1/cases/${encodeURIComponent(v.number)}/materials/${f.id}`).catch((e) => say(e.message));
    return b;
  });
  const rows = list.map((m) => {
    const got = fileButtons(m.code);
    const tr = el("tr", got.length ? "has-file" : "no-file",
      el("td", null, el("div", null, m.name), el("div", "en", m.name_en), m.notes ? el("div", "mat-note", m.notes) : null),
      el("td", null, m.required ? el("span", "req", "必交") : el("span", "opt", "选交"), el("div", "en", m.required ? "Required" : "Optional")),
      el("td", null, `${m.form}${m.copies > 1 ? ` ×${m.copies}` : ""}`),
      el("td", "flag", m.shortfall_allowed ? "可容缺" : ""),
      el("td", "flag", m.commitment_allowed ? "可承诺" : ""),
      el("td", "files", ...(got.length ? got : [el("span", "muted", "未上传 · None")])));
    tr.dataset.material = m.code;
    return tr;
  });
  const known = new Set(list.map((m) => m.code));
  for (const code of new Set(files.filter((f) => !known.has(f.material)).map((f) => f.material))) {
    rows.push(el("tr", "has-file", el("td", null, code), el("td"), el("td"), el("td"), el("td"), el("td", "files", ...fileButtons(code))));
  }
  const head = el("tr", null, ...[["材料", "Material"], ["要求", "Need"], ["形式", "Form"], ["容缺", "Later"], ["承诺", "Pledge"], ["已上传", "Uploaded"]]
    .map((l) => el("th", null, bi(l))));
  const sit = ((v.item_detail && v.item_detail.situations) || []).find((x) => x.code === v.situation);
  const sec = el("section", "case-sec",
    el("h4", null, bi(["材料清单", "Materials"]), sit ? el("span", "sit", `${sit.name} · ${sit.name_en}`) : null),
    el("table", "grid mat-table", el("thead", null, head), el("tbody", null, ...rows)));
  if (UPLOAD_STATES.includes(v.status)) sec.append(uploader(v, list));
  return sec;
}

function uploader(v, list) {
  const pick = el("select", "up-material", ...list.map((m) => {
    const o = el("option", null, `${m.name} ${m.name_en}`);
    o.value = m.code;
    return o;
  }));
  const input = el("input", "up-file");
  input.type = "file";
  input.multiple = true;
  input.accept = "image/jpeg,image/png,application/pdf";
  const go = el("button", null, bi(["上传", "Upload"]));
  go.type = "button";
  go.onclick = async () => {
    if (!input.files.length) return say("请选择文件 · Choose a file first");
    const form = new FormData();
    for (const f of input.files) form.append(`file.${pick.value}`, f, f.name);
    go.disabled = true;
    try {
      await postForm(`/api/v1/cases/${encodeURIComponent(v.number)}/materials`, form);
      say("材料已上传 · Uploaded", "ok");
      await refresh();
    } catch (err) {
      say(err.message);
    } finally {
      go.disabled = false;
    }
  };
  return el("div", "uploader", el("span", null, bi(["补充材料", "Add files"])), pick, input, go);
}

function history(v, tz) {
  return el("section", "case-sec",
    el("h4", null, bi(["办理记录", "History"])),
    el("ol", "history", ...(v.history || []).map((h) => el("li", null,
      el("span", "h-at", when(h.at, tz)),
      el("span", "h-who", h.role === "citizen" ? ROLE.citizen : `${ROLE[h.role] || h.role} ${h.actor_name || h.actor}`),
      el("span", "h-to", split(v.timeline.find((t) => t.status === h.to)?.label || h.to)[0]),
      h.channel ? el("span", "h-note h-channel", bi(pair(CHANNEL, h.channel))) : null,
      h.note ? el("span", "h-note", h.note) : null))));
}

/** 秒批秒办: the item's rules as checked at submission — the ones not met are why the case is at the window. */
function smartCheck(v) {
  const c = v.smart_check;
  if (!c) return null;
  const failed = c.results.filter((r) => !r.passed);
  const head = c.passed
    ? bi([`智能审批：${c.results.length} 条规则全部通过`, "Smart approval: every rule passed"])
    : bi([`智能审批未通过（${failed.length}/${c.results.length} 条规则）`, "Smart approval: rules not met"]);
  return el("section", `case-sec smart-check${c.passed ? " passed" : ""}`, el("h4", null, head),
    el("ul", "smart-failed", ...failed.map((r) => {
      const li = el("li", null, el("strong", null, r.label), el("span", "h-note", ` — ${r.detail}`));
      li.dataset.rule = r.code;
      return li;
    })));
}

function outcomes(v) {
  const allowed = OUTCOMES.filter(([a]) => (v.actions || []).includes(a));
  const bar = el("div", "outcomes", ...allowed.map(([a, label]) => {
    const b = el("button", `outcome o-${a}`, bi(label));
    b.type = "button";
    b.dataset.outcome = a;
    b.classList.toggle("chosen", shown.form === a);
    b.onclick = () => {
      shown.form = shown.form === a ? null : a;
      render();
    };
    return b;
  }));
  if (!allowed.length) bar.append(el("p", "muted", "窗口无可办操作 · Nothing to do at the window in this state"));
  const sec = el("section", "case-sec outcome-sec", el("h4", null, bi(["受理结果", "Outcome"])), cardCheck(v), bar);
  if (shown.form) {
    // The same form element across re-renders (e.g. a reveal): what the clerk typed stays.
    if (!shown.formEl || shown.formEl.dataset.form !== shown.form) shown.formEl = outcomeForm(shown.form, v, shown.ctx, { submit, openFile, say });
    sec.append(shown.formEl);
  } else {
    shown.formEl = null;
  }
  if (shown.issued.length) {
    sec.append(el("div", "issued", el("h5", null, bi(["刚出具的文书", "Documents just issued"])),
      el("ul", "docs", ...shown.issued.map((d) => docRow(v.number, d, d.auto)))));
    for (const d of shown.issued) d.auto = false; // opened once; a re-render keeps only the links
  }
  return sec;
}

const WITH_DOCUMENT = ["accept", "accept_shortfall", "accept_commitment", "notify_missing", "reject", "supplement"];

async function submit(action, body) {
  const mine = shown;
  const n = mine.number;
  const card = document.getElementById("case-card");
  if (card && CARD_CHECKED.includes(action)) body = { ...body, card_id_number: card.value.trim() || null };
  const r = await mine.ctx.post(actionPath(n, action), body);
  // With a document, the answer's `documents` are the ones just issued; the full list comes with the view.
  const issuing = WITH_DOCUMENT.includes(action);
  mine.issued = issuing ? (r.documents || []).map((d) => ({ ...d, auto: true })) : [];
  mine.form = null;
  try {
    mine.view = await mine.ctx.get(`/api/v1/cases/${encodeURIComponent(n)}`);
  } catch {
    // Done on the server: show its answer rather than offer the action again.
    mine.view = issuing ? { ...r, documents: (mine.view.documents || []).concat(r.documents || []) } : r;
  }
  mine.changed();
  if (shown !== mine) return mine.view; // the clerk closed the window meanwhile
  const [zh, en] = split(mine.view.status_label);
  say(`${n}：${zh} · ${en}`, "ok");
  render();
  return mine.view;
}

function render() {
  if (!shown || !shown.view) return;
  const v = shown.view;
  const tz = shown.ctx.tz;
  const title = [
    el("span", "cd-number", v.number), statusBadge(v.status, v.status_label),
    el("span", "cd-item", v.item.name, el("span", "en", v.item.name_en)),
  ];
  const meta = el("div", "case-meta",
    el("span", null, bi(["渠道", "Channel"]), " ", pair(CHANNEL, v.channel)[0]),
    el("span", null, bi(["提交", "Submitted"]), " ", when(v.submitted_at, tz)),
    el("span", null, bi(["承诺时限", "Time limit"]), " ", `${v.time_limit_days} 个工作日`),
    v.deadline ? el("span", `deadline light-${v.light || "none"}`, bi(["办结期限", "Due"]), " ", v.deadline,
      v.light ? ` · ${pair(LIGHT, v.light)[0]}` : "") : null,
    v.supplement_deadline ? el("span", "deadline", bi(["补齐期限", "Supplement by"]), " ", v.supplement_deadline) : null,
    v.handed_over ? el("span", "handed", bi(["已移交", "Handed over"])) : null);
  const docs = el("section", "case-sec", el("h4", null, bi(["文书", "Documents"])),
    (v.documents || []).length
      ? el("ul", "docs", ...v.documents.map((d) => docRow(v.number, d, false)))
      : el("p", "muted", "尚无文书 · None yet"));
  const left = el("div", "case-left", applicant(v, shown.revealed), materials(v), history(v, tz));
  const right = el("div", "case-right", smartCheck(v), prereviewSection(v), outcomes(v), docs);
  const body = el("div", "case-view", meta, el("div", "case-cols", left, right));
  body.dataset.number = v.number;
  body.dataset.status = v.status;
  const d = caseDialog();
  d.querySelector(".cd-title").replaceChildren(...title);
  d.querySelector(".cd-body").replaceChildren(body);
}

async function refresh() {
  const mine = shown;
  const view = await mine.ctx.get(`/api/v1/cases/${encodeURIComponent(mine.number)}`);
  if (shown !== mine) return; // closed, or another case opened meanwhile
  mine.view = view;
  mine.at = Date.now();
  render();
}

let later = null;

/**
 * Re-read the open case after hall events (e.g. a colleague's change), at most every 3 s and never while
 * the clerk fills in an outcome form (re-rendering would take the cursor away).
 */
export function refreshShown() {
  if (!shown || shown.form || later !== null) return;
  const wait = Math.max(0, (shown.at || 0) + 3000 - Date.now());
  later = setTimeout(() => {
    later = null;
    if (!shown || shown.form) return;
    shown.at = Date.now();
    refresh().catch(() => {}); // the next event tries again; the view on screen stays as it was
  }, wait);
}

/**
 * Open a case in the dialog. `ctx` is the panel's context plus `tz`; `changed()` runs after each outcome
 * (the panel refreshes its lists).
 */
export async function showCase(number, ctx, changed = () => {}) {
  try {
    const view = await ctx.get(`/api/v1/cases/${encodeURIComponent(number)}`);
    showDialog([el("span", "cd-number", number)]);
    shown = { number, view, revealed: null, form: null, formEl: null, issued: [], ctx, changed, at: Date.now() };
    render();
    return true;
  } catch (err) {
    if (dlg && dlg.open) say(`${number}：${err.message}`);
    else ctx.notify(`${number}：${err.message}`);
    return false;
  }
}

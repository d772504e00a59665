// 网上申报: the page's strings and requests, the phone's proof, and a web case — or a chain, 一链办理 — as its
// applicant sees it (GET /api/v1/web-cases/{number}, /api/v1/web-chains/{number}): the status (a chain's
// members each with theirs), the one-time notice of a return with the fix form (POST …/resubmit), the slots of
// a passed case (POST …/appointment), the appointment, a result ready.

import { bi, chainFields, el, fieldInputs, fileProblem, materialRows, readFields } from "./apply-form.js";

export const S = {
  title: "网上申报", title_en: "Apply online · 网上预审 pre-review before you come",
  tab_new: "我要申报 / New application", tab_open: "我的申报 / My application",
  step_item: "选择事项 / Choose the service", step_form: "填写申请并上传材料 / Form and materials",
  step_who: "申请人与手机验证 / Applicant and phone", search: "搜索事项 / Search",
  materials: "申请材料 / Materials",
  tag_later: "可容缺 May follow", explain_later: "缺少此材料也可受理，受理后在期限内补交。/ The case can be accepted without it; bring it within the deadline after acceptance.",
  tag_commit: "可告知承诺 Commitment", explain_commit: "可签署告知承诺书代替此证明，窗口办理时签字。/ A signed commitment can replace this proof; you sign it at the window.",
  tag_files: "上传 Uploads",
  name: "申请人姓名 / Applicant's name", id_number: "证件号码 / Document number",
  id_type: "证件类型 / Identity document", nationality: "国籍（三位字母代码）/ Nationality (3-letter code)",
  nationality_hint: "如 KOR 韩国、JPN 日本、RUS 俄罗斯、USA 美国 / e.g. KOR, JPN, RUS, USA",
  need_nationality: "护照须填写国籍三位字母代码 / A passport needs the 3-letter nationality code",
  id_hint: "申请将绑定此证件号码，到窗口时须持本人证件核验。/ The application is bound to this number; bring the card to the window.",
  bound: "提交即表示所填信息真实有效。/ By submitting you confirm the information is true.",
  submit: "验证并提交 / Verify and submit", sending: "正在上传，请勿关闭页面… / Uploading, please keep this page open…",
  done: "已提交，等待网上预审 / Submitted for online pre-review",
  case_no: "办件编号 / Case number", query_code: "查询码 / Query code",
  keep: "请记下办件编号和查询码，用于查看预审结果、修改材料和预约。预审结果也将短信告知。/ Keep the case number and query code to see the result, fix and book.",
  view: "查看我的申报 / View my application",
  open_title: "查看或修改我的申报 / Open my application", open: "打开 / Open",
  or_phone: "忘记查询码？用申报时的手机号验证 / Lost the code? Use the phone you applied with",
  open_phone: "用手机验证码打开 / Open with the phone code",
  no_items: "没有符合的事项 / No matching service", change: "换一个事项 / Choose another",
  output_item: "预审通过即办结，无须到窗口 / Passed pre-review is the result: no visit needed",
  need_name: "请填写申请人姓名 / Enter the applicant's name",
  need_code: "请先获取并填写短信验证码 / Ask for the code and enter it",
  chain_tag: "一件事一次办 · One thing, one application", chain_limit: "承诺时限（并联审批，按最长）/ Time limit (in parallel, the longest):",
  chain_fields: "以下信息只填一次，自动用于各个事项。/ Fill these in once: they are used for every service.",
  chain_members: "包含的事项 / Services in this application",
  wrong: "办件编号或查询码不正确 / Wrong case number or code", busy: "操作过于频繁，请稍后再试 / Too many tries; wait a while",
  failed: "网络或服务暂时不可用，请稍后再试 / The service is unavailable; try again later",
};

const $ = (id) => document.getElementById(id);
// the hall's case_upload_max_kb and time zone (times are the hall's wall clock), set when the hall is known
export const limits = { maxKb: 10240, tz: "Asia/Shanghai" };

/** Fill the page's fixed texts (data-s: text, data-p: placeholder). */
export function strings() {
  for (const e of document.querySelectorAll("[data-s]")) e.textContent = S[e.dataset.s];
  for (const e of document.querySelectorAll("[data-p]")) e.placeholder = S[e.dataset.p];
}

/** fetch, never cached; `json` sends a JSON body. A network failure answers a fake 599. */
export async function api(url, { method = "GET", json, body, headers = {} } = {}) {
  const h = { ...headers };
  if (json !== undefined) {
    h["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  try {
    return await fetch(url, { method, body, headers: h, cache: "no-store" });
  } catch {
    return new Response(JSON.stringify({ detail: S.failed }), { status: 599 });
  }
}

/** The server's own words for a refusal (bilingual already), or ours. */
export async function errorText(r) {
  if (r.status === 429) return S.busy;
  if (r.status === 404) return S.wrong;
  try {
    const d = (await r.json()).detail;
    return typeof d === "string" ? d : S.failed;
  } catch {
    return S.failed;
  }
}

export function showError(text) {
  const e = $("error");
  e.textContent = text;
  e.hidden = false;
  document.body.dataset.error = "1";
  e.scrollIntoView({ block: "center" });
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** A proof of `phone` still live in this tab (sessionStorage: gone with the tab), or null. */
export function proofFor(hall, phone) {
  const got = JSON.parse(sessionStorage.getItem(`apply-proof-${hall}`) || "null");
  return got && got.phone === phone && got.until > Date.now() + 60_000 ? got.proof : null;
}

/** Spend the phone's code for a proof (kept in this tab for its life); null after showing why not. */
export async function prove(hall, phone, code) {
  const r = await api(`/api/v1/halls/${hall}/web-cases/proof`, { method: "POST", json: { phone, code } });
  if (!r.ok) {
    showError(await errorText(r));
    return null;
  }
  const p = await r.json();
  sessionStorage.setItem(`apply-proof-${hall}`, JSON.stringify({ phone, proof: p.proof, until: Date.now() + p.expires_in_s * 1000 }));
  return p.proof;
}

function headersOf(proofs) {
  return proofs.case ? { "X-Case-Proof": proofs.case } : { "X-Phone-Proof": proofs.phone || "" };
}

/** "2026-12-07 09:30" on the hall's clock, wherever the phone is. */
function when(iso) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: limits.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const v = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${v.year}-${v.month}-${v.day} ${v.hour}:${v.minute}`;
}

/** Where a web case (or a chain: its number starts with L) is opened, fixed and booked. */
function base(number) {
  const n = String(number).trim().toUpperCase();
  return `/api/v1/${n.startsWith("L") ? "web-chains" : "web-cases"}/${encodeURIComponent(n)}`;
}

/** Open a web case (or chain) with its query code ({case}) or the phone's proof ({phone}) and show it. */
export async function openCase(number, proofs) {
  const box = $("case");
  box.replaceChildren(el("p", "hint", "正在打开… / Opening…"));
  const r = await api(base(number), { headers: headersOf(proofs) });
  if (!r.ok) {
    box.hidden = true;
    $("open").hidden = false;
    return showError(await errorText(r));
  }
  render(await r.json(), proofs);
}

function render(c, proofs) {
  const box = $("case");
  box.hidden = false;
  $("error").hidden = true;
  document.body.dataset.status = c.status;
  const timeline = el("ol", "timeline", ...c.timeline.map((t) => el("li", null, el("time", null, when(t.at)), t.label)));
  const title = c.kind === "chain" ? c.chain : c.item;
  box.replaceChildren(
    el("h2", null, bi(title.name, title.name_en)),
    el("dl", "facts", el("dt", null, S.case_no), el("dd", "big", c.number),
      el("dt", null, "申请人 / Applicant"), el("dd", null, `${c.applicant_masked} · ${c.id_number_masked}`),
      el("dt", null, "当前状态 / Status"), el("dd", `status s-${c.status}`, c.status_label)),
    ...next(c, proofs),
    c.kind === "chain" ? members(c) : null,
    el("h3", null, "办理进度 / Progress"), timeline);
  box.scrollIntoView({ block: "start" });
}

/** A chain's member items, each with its own state (并联审批: each has its own approval). */
function members(c) {
  return el("div", "chain-members", el("h3", null, S.chain_members), el("ol", "members", ...c.members.map((m) => {
    const li = el("li", null, bi(m.item.name, m.item.name_en), el("span", `meta s-${m.status}`, m.status_label));
    li.dataset.member = m.number;
    li.dataset.status = m.status;
    return li;
  })));
}

function next(c, proofs) {
  if (c.status === "prereview") return [el("p", "hint", "窗口工作人员正在预审，结果将短信告知。/ A clerk is pre-reviewing it; you will get a text message.")];
  if (c.status === "prereview_returned" && c.notice) return fixForm(c, proofs);
  if (c.status === "prereview_passed" && c.appointment) return [appointment(c.appointment)];
  if (c.status === "prereview_passed" && c.queue) return slotPicker(c, proofs);
  if (c.status === "prereview_passed") return [el("p", "good", "预审已通过，请携带身份证原件到大厅取号办理。/ Passed: bring your ID card to the hall and take a number.")];
  if (c.status === "result_ready") return [el("p", "good", "办理结果已可领取，取件码已短信发送；也可申请邮寄。/ The result is ready: the pickup code was sent by text message.")];
  return c.appointment ? [appointment(c.appointment)] : [];
}

function appointment(a) {
  return el("div", "appointment", el("h3", null, "已预约 / Booked"),
    el("p", "big", `${when(a.start)} – ${when(a.end).slice(11)}`),
    el("p", null, `预约码 Booking code: `, el("strong", "code", a.code)),
    el("p", "hint", "请在预约时段携带身份证原件到大厅签到，窗口将核验证件与申报一致。/ Check in at the hall with your ID card; the window checks it is the one you applied with."));
}

/** The fields and materials a case's (or a chain's: its shared ones) form has. */
function formOf(c) {
  if (c.kind === "chain") return { fields: chainFields(c.chain_detail.fields), materials: c.chain_detail.materials };
  const sit = c.item_detail.situations.find((s) => s.code === c.situation);
  return { fields: c.item_detail.form_fields[c.situation] || [], materials: sit.materials };
}

function fixForm(c, proofs) {
  const n = c.notice;
  const all = formOf(c);
  const fields = all.fields.filter((f) => n.fixes.some((x) => x.kind === "field" && x.code === f.code));
  const mats = all.materials.filter((m) => n.fixes.some((x) => x.kind === "material" && x.code === m.code));
  const names = c.kind === "chain" ? Object.fromEntries(c.chain_detail.members.map((m) => [m.item, m.name])) : {};
  const list = el("ol", "notice", ...n.fixes.map((f) => {
    const li = el("li", null, el("strong", null, bi(f.label, f.label_en)), el("p", "problem", f.problem),
      f.items && f.items.length ? el("p", "meta", `涉及 Concerns: ${f.items.map((x) => names[x] || x).join("、")}`) : null);
    li.dataset.kind = f.kind;
    li.dataset.code = f.code;
    return li;
  }));
  const fieldBox = el("div", "fields", ...fieldInputs(fields, c.form));
  const matBox = el("ol", "materials", ...materialRows(mats));
  const send = el("button", "primary", "修改完成，重新提交 / Resubmit");
  send.type = "submit";
  const form = el("form", "fix", el("h3", null, "需要修改 / Please fix"), list,
    n.note ? el("p", "note", el("b", null, "说明 Note: "), n.note) : null,
    fields.length ? el("h3", null, "修改填写内容 / Correct the form") : null, fieldBox,
    mats.length ? el("h3", null, "重新上传材料 / Upload again") : null, matBox, send);
  form.id = "fix";
  form.noValidate = true;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problems = [];
    const body = new FormData();
    const { values, missing } = readFields(fieldBox);
    problems.push(...missing);
    for (const input of matBox.querySelectorAll("input[type=file]")) {
      const files = [...input.files];
      if (!files.length) problems.push(`请重新上传“${input.closest("li").querySelector(".bi").firstChild.textContent}”`);
      for (const f of files) {
        const p = fileProblem(f, limits.maxKb);
        if (p) problems.push(p);
        body.append(`file.${input.dataset.material}`, f, f.name);
      }
    }
    if (problems.length) return showError(problems.join("\n"));
    body.append("data", JSON.stringify({ form: { ...c.form, ...values } }));
    send.disabled = true;
    const r = await api(`${base(c.number)}/resubmit`, { method: "POST", body, headers: headersOf(proofs) });
    send.disabled = false;
    if (!r.ok) return showError(await errorText(r));
    render(await r.json(), proofs);
  });
  return [form];
}

/** Today and the next six days on the hall's calendar. */
function days() {
  const out = [];
  for (let i = 0; i < 7; i += 1) out.push(when(new Date(Date.now() + i * 86_400_000).toISOString()).slice(0, 10));
  return out;
}

function slotPicker(c, proofs) {
  const day = el("select");
  day.id = "slot-day";
  for (const d of days()) {
    const o = el("option", null, d);
    o.value = d;
    day.append(o);
  }
  const list = el("div", "slots");
  list.id = "slots";
  const load = async (first = false) => {
    const r = await api(`/api/v1/halls/${c.hall}/slots?queue=${encodeURIComponent(c.queue)}&date=${day.value}`);
    const slots = r.ok ? await r.json() : [];
    const free = slots.filter((s) => s.booked < s.capacity && new Date(s.start) > new Date());
    if (first && !free.length && day.selectedIndex < day.options.length - 1) {
      day.selectedIndex += 1; // the first day with a free slot
      return load(true);
    }
    list.replaceChildren(...(free.length ? free.map((s) => {
      const b = el("button", "slot", when(s.start).slice(11), el("small", null, `余 ${s.capacity - s.booked} left`));
      b.type = "button";
      b.dataset.start = s.start;
      b.addEventListener("click", async () => {
        const got = await api(`${base(c.number)}/appointment`, { method: "POST", json: { start: s.start }, headers: headersOf(proofs) });
        if (!got.ok) return showError(await errorText(got));
        render(await got.json(), proofs);
      });
      return b;
    }) : [el("p", "hint", "当天没有可预约的时段 / No free slot that day")]));
  };
  day.addEventListener("change", () => load());
  load(true);
  return [el("div", "book", el("p", "good", "预审已通过！请预约到大厅办理的时间。/ Passed! Book a time to come to the hall."),
    el("label", null, bi("日期", "Day"), day), list)];
}

// The outcome forms of the case window: accept, one-time notice (every problem at once), reject with the
// reason, 容缺 acceptance with the supplement date, 告知承诺 (print, sign, then accept), and the plain moves.

import { bi, el } from "./dom.js";
import { PROBLEMS } from "./cases-labels.js";
import { PREREVIEW_FORMS } from "./cases-preforms.js";

let picks = null;

/** The quick picks of a problem text (one <datalist> for every form): the Chinese goes into the field and so
 * onto the 一次性告知书 (a Chinese document); the English only labels the pick. */
function problemPicks() {
  if (picks && picks.isConnected) return picks.id;
  picks = el("datalist", null, ...PROBLEMS.map(([zh, en]) => {
    const o = el("option");
    o.value = zh;
    o.label = en;
    return o;
  }));
  picks.id = "case-problem-picks";
  document.body.append(picks);
  return picks.id;
}

function input(cls, value = "", placeholder = "", max = 300) {
  const i = el("input", cls);
  i.value = value;
  i.placeholder = placeholder;
  i.maxLength = max;
  return i;
}

function field(label, control, hint) {
  return el("label", "ff", el("span", "ff-label", bi(label)), control, hint ? el("small", "muted", hint) : null);
}

function tick(cls) {
  const c = el("input", cls);
  c.type = "checkbox";
  return c;
}

function situation(v) {
  return ((v.item_detail && v.item_detail.situations) || []).find((x) => x.code === v.situation) || { materials: [] };
}

function requirementOf(m) {
  return `提交${m.form}${m.copies > 1 ? ` ${m.copies} 份` : ""}`;
}

/** The form of one outcome; `tools.submit(action, body)` sends it and re-renders the case. */
export function outcomeForm(action, v, ctx, tools) {
  const build = FORMS[action] || plain;
  const form = el("form", "outcome-form");
  form.dataset.form = action;
  form.noValidate = true;
  const { parts, body, label } = build(v, ctx, tools);
  const go = el("button", "primary", bi(label));
  go.type = "submit";
  go.dataset.submit = action;
  const cancel = el("button", null, bi(["取消", "Cancel"]));
  cancel.type = "button";
  cancel.onclick = () => form.closest(".outcome-sec").querySelector(`button[data-outcome="${action}"]`).click();
  form.append(...parts, el("div", "form-actions", cancel, go));
  form.onsubmit = async (e) => {
    e.preventDefault();
    let data;
    try {
      data = body();
    } catch (err) {
      tools.say(err.message);
      return;
    }
    go.disabled = true;
    try {
      await tools.submit(action, { window: `${ctx.window} 号窗口`, ...data });
    } catch (err) {
      tools.say(err.message);
      go.disabled = false;
    }
  };
  return form;
}

function accept(v, ctx) {
  const note = input("f-note", "", "备注（可不填） · Note (optional)", 500);
  return {
    label: ["确认受理并出具受理凭证", "Accept and issue the receipt"],
    parts: [el("p", "hint", `材料齐全、符合法定形式，予以受理。承诺时限 ${v.time_limit_days} 个工作日 · Complete and in due form: accept.`),
      field(["备注", "Note"], note)],
    body: () => ({ note: note.value.trim() }),
  };
}

function notifyMissing(v) {
  const list = problemPicks();
  const files = new Set((v.materials || []).map((f) => f.material));
  const rows = situation(v).materials.map((m) => {
    const box = tick("f-tick");
    const problem = input("f-problem", "", "问题 · What is wrong", 200);
    problem.setAttribute("list", list);
    const req = input("f-req", requirementOf(m), "要求 · What to bring", 300);
    box.onchange = () => {
      row.classList.toggle("ticked", box.checked);
      if (box.checked && !problem.value) problem.value = files.has(m.code) ? "" : PROBLEMS[0][0];
      if (box.checked) problem.focus();
    };
    const row = el("div", "prob-row", el("label", "prob-name", box, el("span", null, m.name), el("span", "en", m.name_en)), problem, req);
    row.dataset.material = m.code;
    return row;
  });
  const extra = el("div", "prob-extra");
  const add = el("button", "add-row", bi(["添加其他问题", "Add another item"]));
  add.type = "button";
  add.onclick = () => {
    const name = input("f-other", "", "材料或事项名称 · Item", 64);
    const problem = input("f-problem", "", "问题 · What is wrong", 200);
    problem.setAttribute("list", list);
    const row = el("div", "prob-row other", name, problem, input("f-req", "", "要求 · What to bring", 300));
    extra.append(row);
    name.focus();
  };
  return {
    label: ["出具一次性告知书", "Issue the one-time notice"],
    parts: [el("p", "hint", "勾选全部缺少或有误的材料，写明问题和要求，一次告知 · Tick every missing or wrong material with its problem and requirement: all at once"),
      el("div", "prob-list", ...rows), extra, add],
    body: () => {
      const problems = [];
      for (const row of rows) {
        if (!row.querySelector(".f-tick").checked) continue;
        const p = row.querySelector(".f-problem").value.trim();
        if (!p) throw new Error(`请写明“${row.querySelector(".prob-name span").textContent}”的问题 · Say what is wrong with each ticked material`);
        problems.push({ material: row.dataset.material, problem: p, requirement: row.querySelector(".f-req").value.trim() });
      }
      for (const row of extra.children) {
        const name = row.querySelector(".f-other").value.trim();
        if (!name) continue;
        problems.push({ material: name, problem: row.querySelector(".f-problem").value.trim(), requirement: row.querySelector(".f-req").value.trim() });
      }
      if (!problems.length) throw new Error("请至少勾选一项 · Tick at least one material");
      return { problems };
    },
  };
}

function reject() {
  const reason = el("textarea", "f-reason");
  reason.maxLength = 1000;
  reason.rows = 3;
  reason.placeholder = "例如：申请事项依法不需要取得行政许可 · e.g. the matter needs no licence";
  const basis = input("f-basis", "", "例如：《中华人民共和国行政许可法》第三十二条", 300);
  const authority = input("f-authority", "", "不属于本机关职权范围时填写 · When another body decides", 100);
  return {
    label: ["出具不予受理通知书", "Issue the non-acceptance notice"],
    parts: [field(["不予受理理由（必填）", "Reason (required)"], reason), field(["法律依据", "Legal basis"], basis),
      field(["有权机关", "Competent authority"], authority)],
    body: () => {
      if (!reason.value.trim()) throw new Error("请填写不予受理的理由 · Write the reason");
      return { reason: reason.value.trim(), legal_basis: basis.value.trim(), competent_authority: authority.value.trim() };
    },
  };
}

function shortfall(v) {
  const allowed = situation(v).materials.filter((m) => m.shortfall_allowed);
  const rows = allowed.map((m) => {
    const box = tick("f-tick");
    const row = el("div", "prob-row", el("label", "prob-name", box, el("span", null, m.name), el("span", "en", m.name_en)),
      input("f-req", `补交${m.form}`, "要求 · What to bring", 300));
    row.dataset.material = m.code;
    return row;
  });
  const date = el("input", "f-date");
  date.type = "date";
  date.min = new Date().toISOString().slice(0, 10);
  const parts = allowed.length
    ? [el("p", "hint", "只能选择允许容缺的材料；逾期未补齐的，办件将被撤回 · Only materials that may follow later; not supplied in time, the case is withdrawn"),
      el("div", "prob-list", ...rows),
      field(["补齐期限", "Supply by"], date, "不填为 5 个工作日；须为工作日 · Empty: 5 working days; must be a working day")]
    : [el("p", "hint", "本情形没有允许容缺的材料 · No material of this situation may follow later")];
  return {
    label: ["容缺受理并出具通知书", "Accept and issue the notice"],
    parts,
    body: () => {
      const pending = rows.filter((r) => r.querySelector(".f-tick").checked)
        .map((r) => ({ material: r.dataset.material, requirement: r.querySelector(".f-req").value.trim() }));
      if (!pending.length) throw new Error("请选择待补的材料 · Pick the materials to follow");
      return date.value ? { pending, supplement_by: date.value } : { pending };
    },
  };
}

function commitment(v, ctx, tools) {
  const allowed = v.item_detail && v.item_detail.commitment_allowed ? situation(v).materials.filter((m) => m.commitment_allowed) : [];
  const boxes = allowed.map((m) => {
    const box = tick("f-tick");
    box.value = m.code;
    const row = el("label", "prob-name", box, el("span", null, m.name), el("span", "en", m.name_en));
    row.dataset.material = m.code;
    return row;
  });
  const days = el("input", "f-days");
  days.type = "number";
  days.min = "1";
  days.max = "365";
  days.value = "30";
  const signed = tick("f-signed");
  signed.disabled = true;
  const unsign = () => {
    // Another choice needs another printed letter: sign again after printing it.
    signed.checked = false;
    signed.disabled = true;
  };
  for (const b of boxes) b.querySelector("input").onchange = unsign;
  days.onchange = unsign;
  const chosen = () => boxes.map((b) => b.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
  const print = el("button", "print-letter", bi(["① 打印告知承诺书", "1. Print the commitment letter"]));
  print.type = "button";
  print.onclick = async () => {
    const c = chosen();
    if (!c.length) return tools.say("请选择以承诺替代的材料 · Pick the materials the pledge replaces");
    const q = new URLSearchParams(c.map((x) => ["commitments", x]));
    q.set("verification_days", days.value || "30");
    try {
      await tools.openFile(`/api/v1/cases/${encodeURIComponent(v.number)}/commitment-letter.pdf?${q}`);
      signed.disabled = false;
    } catch (err) {
      tools.say(err.message);
    }
  };
  const parts = allowed.length
    ? [el("p", "hint", "申请人签署告知承诺书后，以承诺替代下列证明材料 · The signed pledge replaces the proofs ticked below"),
      el("div", "prob-list", ...boxes), field(["核查期限（天）", "Verification within (days)"], days),
      el("div", "steps", print, el("label", "signed", signed, bi(["② 申请人已当面签字", "2. The applicant has signed"])))]
    : [el("p", "hint", "本事项或情形不适用告知承诺 · Commitment does not apply to this item")];
  return {
    label: ["③ 承诺受理", "3. Accept on commitment"],
    parts,
    body: () => {
      const c = chosen();
      if (!c.length) throw new Error("请选择以承诺替代的材料 · Pick the materials the pledge replaces");
      if (!signed.checked) throw new Error("请先打印告知承诺书并由申请人签字 · Print the letter and have it signed first");
      return { commitments: c, signed: true, verification_days: Number(days.value) || 30 };
    },
  };
}

function plain() {
  const note = input("f-note", "", "备注 · Note", 500);
  return { label: ["确认", "Confirm"], parts: [field(["备注", "Note"], note)], body: () => ({ note: note.value.trim() }) };
}

const FORMS = {
  accept,
  notify_missing: notifyMissing,
  reject,
  accept_shortfall: shortfall,
  accept_commitment: commitment,
  ...PREREVIEW_FORMS,
};

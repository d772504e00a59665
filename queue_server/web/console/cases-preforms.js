// 网上预审 in the case window: 预审通过 (the citizen books a slot, or an output item is ready at once) and
// 预审退回 with the one-time notice — a tick per material and form field with what is wrong, and free text.
// The card check of a passed web case at acceptance is in cases-view.js (card_id_number).

import { bi, el } from "./dom.js";
import { PROBLEMS } from "./cases-labels.js";

function text(cls, placeholder, max) {
  const i = el("input", cls);
  i.placeholder = placeholder;
  i.maxLength = max;
  return i;
}

/** A line of a return's notice: a tick and what is wrong with the material or field. */
export function row(kind, code, name, nameEn) {
  const box = el("input", "f-tick");
  box.type = "checkbox";
  const problem = text("f-problem", "问题与要求 · What to fix", 300);
  problem.setAttribute("list", "pr-problem-picks");
  box.onchange = () => {
    r.classList.toggle("ticked", box.checked);
    if (box.checked) problem.focus();
  };
  const r = el("div", "prob-row", el("label", "prob-name", box, el("span", null, name), el("span", "en", nameEn)), problem);
  r.dataset.kind = kind;
  r.dataset.code = code;
  return r;
}

/** The common problems to pick from (a datalist the problem boxes use). */
export function picks() {
  const list = el("datalist", null, ...PROBLEMS.map(([zh, en]) => {
    const o = el("option");
    o.value = zh;
    o.label = en;
    return o;
  }));
  list.id = "pr-problem-picks";
  return list;
}

function passForm(v) {
  const note = text("f-note", "备注（可不填） · Note (optional)", 500);
  const output = v.item_detail && v.item_detail.prereview_output;
  return {
    label: ["预审通过", "Pass the pre-review"],
    parts: [el("p", "hint", output
      ? "本事项预审通过即出件：自动受理、办结并短信通知领取 · This item goes straight to output: accepted, approved and ready at once"
      : "通过后申请人可预约到窗口办理，窗口受理时须读取其身份证核验 · The applicant books a slot; the window checks the ID card at acceptance"),
    el("label", "ff", el("span", "ff-label", bi(["备注", "Note"])), note)],
    body: () => ({ note: note.value.trim() }),
  };
}

function returnForm(v) {
  const sit = ((v.item_detail && v.item_detail.situations) || []).find((x) => x.code === v.situation) || { materials: [] };
  const fields = ((v.item_detail && v.item_detail.form_fields) || {})[v.situation] || [];
  const rows = [
    ...sit.materials.map((m) => row("material", m.code, m.name, m.name_en)),
    ...fields.map((f) => row("field", f.code, `填写项：${f.label}`, f.label_en)),
  ];
  const note = el("textarea", "f-reason");
  note.maxLength = 1000;
  note.rows = 3;
  note.placeholder = "其他需要说明的问题 · Anything else to fix";
  return {
    label: ["退回并一次性告知", "Return with the notice"],
    parts: [picks(), el("p", "hint", "勾选全部需要修改的材料和填写项，写明问题，一次告知；申请人修改后重新提交 · Tick everything to fix, all at once"),
      el("div", "prob-list", ...rows), el("label", "ff", el("span", "ff-label", bi(["其他说明", "Other"])), note)],
    body: () => {
      const fixes = [];
      for (const r of rows) {
        if (!r.querySelector(".f-tick").checked) continue;
        fixes.push({ kind: r.dataset.kind, code: r.dataset.code, problem: r.querySelector(".f-problem").value.trim() });
      }
      if (!fixes.length && !note.value.trim()) throw new Error("请勾选需要修改的内容或写明说明 · Tick what to fix or write a note");
      return { fixes, note: note.value.trim() };
    },
  };
}

export const PREREVIEW_FORMS = { prereview_pass: passForm, prereview_return: returnForm };

/** Where an action of the case window is posted: the pre-review ones have routes of their own. */
export function actionPath(number, action) {
  const n = encodeURIComponent(number);
  return action.startsWith("prereview_") ? `/api/v1/cases/${n}/prereview/${action.slice(10)}` : `/api/v1/cases/${n}/actions/${action}`;
}

/** The last return's notice, and the slot booked, in the case window. */
export function prereviewSection(v) {
  const n = v.prereview_notice;
  if (!n && !v.appointment_code) return null;
  const sec = el("section", "case-sec prereview-sec", el("h4", null, bi(["网上预审", "Online pre-review"])));
  if (n) {
    sec.append(el("p", "muted", v.status === "prereview_returned" ? "已退回，待申请人修改 · Returned, waiting for the fix" : "上次退回的告知 · The last return's notice"),
      el("ul", "pr-notice", ...n.fixes.map((f) => {
        const li = el("li", null, el("strong", null, f.label), el("span", "h-note", ` — ${f.problem}`));
        li.dataset.code = f.code;
        return li;
      })), n.note ? el("p", "h-note", n.note) : null);
  }
  if (v.appointment_code) sec.append(el("p", null, bi(["已预约", "Booked"]), " ", el("b", null, v.appointment_code)));
  return sec;
}

const typed = new Map(); // case number -> the card number read, kept while the case window re-renders

/** The ID card check of a web case at acceptance: the number the card reader types (or the clerk). */
export function cardCheck(v) {
  if (v.channel !== "web" || v.status !== "prereview_passed") {
    typed.delete(v.number);
    return null;
  }
  const i = el("input", "case-card");
  i.id = "case-card";
  i.value = typed.get(v.number) || "";
  i.oninput = () => typed.set(v.number, i.value);
  i.maxLength = 32;
  i.autocomplete = "off";
  i.spellcheck = false;
  i.placeholder = "刷身份证或输入号码 · Swipe the ID card or type its number";
  return el("label", "ff card-check", el("span", "ff-label",
    bi([`网上申报：受理前核验身份证（须为 ${v.id_number_masked}）`, "Web case: read the applicant's ID card before accepting"])), i);
}

export const CARD_CHECKED = ["accept", "accept_shortfall", "accept_commitment"];

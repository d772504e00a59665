// 一链办理 from the web at the front desk: a chain pre-reviewed as one (网上预审). Its members with their states,
// the shared materials each with its files (uploaded once, used by several items), and the chain's actions:
// 预审通过 (every member passes; the citizen books one slot), 预审退回 with ONE notice in the chain's own words
// (a tick per shared material and field), 撤回; once passed, 整体受理 with the applicant's card read at the
// window (the server checks it is the bound one). A member is never passed, returned or accepted alone.

import { bi, el } from "./dom.js";
import { split } from "./cases-labels.js";
import { openFile, say, showDialog, statusBadge, when } from "./cases-view.js";
import { picks, row } from "./cases-preforms.js";

const ACTIONS = [
  ["prereview_pass", ["预审通过（整链）", "Pass the whole chain"], "prereview/pass"],
  ["prereview_return", ["退回并一次性告知（整链）", "Return with one notice"], "prereview/return"],
  ["accept", ["整体受理", "Accept the whole chain"], "actions/accept"],
  ["withdraw", ["撤回", "Withdraw"], "actions/withdraw"],
];
const path = (n) => `/api/v1/chain-cases/${encodeURIComponent(n)}`;
let typed = ""; // the card number read, kept while the chain window re-renders

/** Open a chain in the case dialog; `open(number)` shows a member case. */
export async function showChain(ctx, number, open) {
  let v;
  try {
    v = await ctx.get(path(number));
  } catch (err) {
    ctx.notify(err.message);
    return;
  }
  typed = "";
  render(ctx, v, open, null);
}

function members(v, open) {
  return el("table", "grid chain-members",
    el("thead", null, el("tr", null, ...[["办件编号", "Case"], ["事项", "Item"], ["状态", "Status"]].map((h) => el("th", null, bi(h))))),
    el("tbody", null, ...v.members.map((m) => {
      const num = el("button", "link", m.number);
      num.type = "button";
      num.onclick = () => open(m.number);
      const tr = el("tr", null, el("td", null, num), el("td", null, m.item_name), el("td", null, statusBadge(m.status, m.status_label, true)));
      tr.dataset.member = m.number;
      tr.dataset.status = m.status;
      return tr;
    })));
}

function materials(v) {
  const names = Object.fromEntries(v.members.map((m) => [m.item, m.item_name]));
  return el("table", "grid chain-materials",
    el("thead", null, el("tr", null, ...[["共享材料", "Shared material"], ["用于", "Used by"], ["文件", "Files"]].map((h) => el("th", null, bi(h))))),
    el("tbody", null, ...v.materials.map((m) => {
      const files = m.files.map((f, i) => {
        const b = el("button", "file-open", `${f.content_type === "application/pdf" ? "PDF" : "图片"} ${i + 1}`);
        b.type = "button";
        b.title = `${f.content_type} · ${Math.ceil(f.size / 1024)} KB · 打开 Open`;
        b.onclick = () => openFile(`/api/v1/cases/${encodeURIComponent(f.case)}/materials/${f.id}`).catch((e) => say(e.message));
        return b;
      });
      const tr = el("tr", files.length ? "has-file" : "no-file",
        el("td", null, el("div", null, m.name), el("div", "en", m.name_en)),
        el("td", null, Object.keys(m.uses).map((it) => names[it] || it).join("、")),
        el("td", null, ...(files.length ? files : [el("span", "muted", "未上传 · none")])));
      tr.dataset.material = m.code;
      return tr;
    })));
}

function notice(v) {
  const n = v.prereview_notice;
  if (!n) return null;
  return el("section", "case-sec prereview-sec", el("h4", null, bi(["网上预审", "Online pre-review"])),
    el("p", "muted", v.status === "prereview_returned" ? "已退回，待申请人修改 · Returned, waiting for the fix" : "上次退回的告知 · The last return's notice"),
    el("ul", "pr-notice", ...n.fixes.map((f) => {
      const li = el("li", null, el("strong", null, f.label), el("span", "h-note", ` — ${f.problem}`));
      li.dataset.code = f.code;
      return li;
    })), n.note ? el("p", "h-note", n.note) : null);
}

function form(action, v) {
  if (action === "prereview_return") {
    const rows = [...v.materials.map((m) => row("material", m.code, m.name, m.name_en)),
      ...v.fields.map((f) => row("field", f.code, `填写项：${f.label}`, f.label_en))];
    const note = el("textarea", "f-reason");
    note.maxLength = 1000;
    note.rows = 3;
    note.placeholder = "其他需要说明的问题 · Anything else to fix";
    return { parts: [picks(), el("p", "hint", "勾选整链需要修改的共享材料和填写项，一次告知；申请人修改后整链重新提交 · Tick everything to fix in the whole chain, all at once"),
      el("div", "prob-list", ...rows), el("label", "ff", el("span", "ff-label", bi(["其他说明", "Other"])), note)],
    body: () => {
      const fixes = rows.filter((r) => r.querySelector(".f-tick").checked)
        .map((r) => ({ kind: r.dataset.kind, code: r.dataset.code, problem: r.querySelector(".f-problem").value.trim() }));
      if (!fixes.length && !note.value.trim()) throw new Error("请勾选需要修改的内容或写明说明 · Tick what to fix or write a note");
      return { fixes, note: note.value.trim() };
    } };
  }
  const note = el("input", "f-note");
  note.maxLength = 500;
  note.placeholder = "备注（可不填） · Note (optional)";
  const hint = {
    prereview_pass: "通过后申请人预约一次到窗口，整链受理时读取其身份证核验 · The applicant books one slot; the card is checked at acceptance",
    accept: "各成员办件一并受理，随后各自并联审批 · Every member is accepted at once, then approved in parallel",
    withdraw: "整链撤回，各成员办件一并撤回 · Every member is withdrawn",
  }[action];
  return { parts: [el("p", "hint", hint), el("label", "ff", el("span", "ff-label", bi(["备注", "Note"])), note)],
    body: () => ({ note: note.value.trim() }) };
}

function render(ctx, v, open, chosen) {
  const [zh, en] = split(v.status_label);
  const title = [el("span", "cd-number", v.number), statusBadge(v.status, v.status_label),
    el("span", "cd-item", v.name, el("span", "en", v.name_en))];
  const card = v.status === "prereview_passed" ? el("input", "case-card") : null;
  if (card) {
    card.id = "case-card";
    card.maxLength = 32;
    card.autocomplete = "off";
    card.placeholder = "刷身份证或输入号码 · Swipe the ID card or type its number";
    card.value = typed;
    card.oninput = () => { typed = card.value; };
  }
  const allowed = ACTIONS.filter(([a]) => v.actions.includes(a));
  const bar = el("div", "outcomes", ...allowed.map(([a, label]) => {
    const b = el("button", `outcome o-${a}${a === chosen ? " chosen" : ""}`, bi(label));
    b.type = "button";
    b.dataset.outcome = a;
    b.onclick = () => render(ctx, v, open, a === chosen ? null : a);
    return b;
  }));
  let formEl = null;
  if (chosen) {
    const f = form(chosen, v);
    const send = el("button", "primary", bi(ACTIONS.find(([a]) => a === chosen)[1]));
    send.type = "submit";
    send.dataset.submit = "1";
    formEl = el("form", "outcome-form", ...f.parts, send);
    formEl.dataset.form = chosen;
    formEl.onsubmit = async (e) => {
      e.preventDefault();
      let body;
      try {
        body = f.body();
      } catch (err) {
        say(err.message);
        return;
      }
      if (chosen === "accept") body = { ...body, card_id_number: card.value.trim() || null };
      send.disabled = true;
      try {
        const got = await ctx.post(`${path(v.number)}/${ACTIONS.find(([a]) => a === chosen)[2]}`, body);
        render(ctx, got, open, null);
        const [z, e2] = split(got.status_label);
        say(`${got.number}：${z} · ${e2}`, "ok");
      } catch (err) {
        send.disabled = false;
        say(err.message);
      }
    };
  }
  const view = el("div", "case-view chain-view",
    el("div", "case-meta",
      el("span", null, bi(["一链办理", "One chain"]), " ", `${zh} · ${en}`),
      el("span", null, bi(["申请人", "Applicant"]), " ", `${v.applicant_masked} · ${v.id_number_masked}`),
      v.phone_masked ? el("span", null, bi(["手机", "Phone"]), " ", v.phone_masked) : null,
      el("span", null, bi(["提交", "Submitted"]), " ", when(v.submitted_at, ctx.tz)),
      v.appointment_code ? el("span", null, bi(["已预约", "Booked"]), " ", v.appointment_code) : null),
    el("section", "case-sec", el("h4", null, bi(["成员事项（并联审批）", "Member items (approved in parallel)"])), members(v, open)),
    el("section", "case-sec", el("h4", null, bi(["共享材料（一次上传）", "Shared materials (uploaded once)"])), materials(v)),
    notice(v),
    el("section", "case-sec outcome-sec", el("h4", null, bi(["整链办理", "The whole chain"])),
      card ? el("label", "ff card-check", el("span", "ff-label",
        bi([`网上申报：受理前核验身份证（须为 ${v.id_number_masked}）`, "Web chain: read the applicant's ID card before accepting"])), card) : null,
      allowed.length ? bar : el("p", "muted", "整链无可办操作 · Nothing to do with the chain in this state"), formEl));
  view.dataset.number = v.number;
  view.dataset.status = v.status;
  showDialog(title, view);
}

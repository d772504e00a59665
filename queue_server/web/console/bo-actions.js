// The forms of the back-office page: the decision (review, approve, refuse) and the output
// (result ready with its one-time pickup code, window hand-over, EMS mailing and its signed receipt,
// a pickup ticket of the 统一出件 queue). Only the buttons the server lists in `actions` are shown.

import { bi, el } from "./dom.js";
import { DOCUMENT, pair } from "./bo-labels.js";

const TICKETERS = new Set(["clerk", "admin"]); // who may take a pickup ticket (server rule)

function actionPath(v, action) {
  return `/api/v1/cases/${encodeURIComponent(v.number)}/actions/${action}`;
}

function button(label, action, cls = "") {
  const b = el("button", cls, bi(label));
  b.type = "submit";
  b.dataset.action = action;
  return b;
}

function field(label, input) {
  return el("label", "bo-field", el("span", null, bi(label)), input);
}

function input(name, opts = {}) {
  const i = el(opts.multiline ? "textarea" : "input");
  i.name = name;
  if (opts.required) i.required = true;
  if (opts.max) i.maxLength = opts.max;
  if (opts.placeholder) i.placeholder = opts.placeholder;
  if (opts.pattern) i.pattern = opts.pattern;
  return i;
}

/** A form that posts `body(form)` to `path` with its button disabled meanwhile. */
function form(cls, path, body, ctx, ok, ...children) {
  const f = el("form", `bo-form ${cls}`, ...children);
  f.autocomplete = "off";
  f.onsubmit = async (e) => {
    e.preventDefault();
    if (f.dataset.confirm && f.dataset.confirmed !== "true") {
      askConfirm(f);
      return;
    }
    f.dataset.confirmed = "false";
    for (const b of f.querySelectorAll("button")) b.disabled = true;
    const res = await ctx.act(path, body(f), ok);
    if (!res) for (const b of f.querySelectorAll("button")) b.disabled = false;
  };
  return f;
}

const value = (f, name) => f.elements.namedItem(name).value.trim();

/** A decision is issued only after a second, explicit confirmation (one click must not decide a case). */
function askConfirm(f) {
  const box = f.querySelector(".bo-confirm");
  if (box) box.remove();
  const yes = el("button", "danger", bi(["确认发出", "Confirm"]));
  yes.type = "button";
  yes.dataset.action = `${f.dataset.confirm}-confirm`;
  const no = el("button", null, bi(["取消", "Cancel"]));
  no.type = "button";
  const ask = el("div", "bo-confirm",
    el("p", null, f.dataset.confirm === "approve"
      ? bi(["确定作出准予许可决定？决定书将立即生成。", "Issue the approval decision now? The decision letter is made at once."])
      : bi(["确定作出不予许可决定？决定书将立即生成。", "Issue the refusal decision now? The decision letter is made at once."])),
    yes, no);
  yes.onclick = () => {
    f.dataset.confirmed = "true";
    ask.remove();
    f.requestSubmit();
  };
  no.onclick = () => ask.remove();
  f.append(ask);
  yes.focus();
}

function decisionSummary(v, ctx) {
  if (!v.decision) return null;
  const kind = v.decision === "approved" ? "approval_decision" : "refusal_decision";
  const doc = v.documents.filter((d) => d.kind === kind).pop();
  const open = doc ? el("button", "small", bi(["打开决定书", "Open decision PDF"])) : null;
  if (open) {
    open.type = "button";
    open.dataset.open = kind;
    open.onclick = () => ctx.openFile(doc.url);
  }
  const text = v.decision === "approved" ? ["准予许可", "Approved"] : ["不予许可", "Refused"];
  return el("div", `bo-decided decided-${v.decision}`,
    el("b", null, bi(text)),
    doc ? el("span", "muted", `${pair(DOCUMENT, kind)[0]} ${doc.document_no || ""}`) : null,
    v.decision_reason ? el("span", "bo-reason", `理由 Reason：${v.decision_reason}`) : null,
    open);
}

/** The decision section: start review, approve (note, legal basis) or refuse (reason required). */
export function renderDecision(v, ctx) {
  const acts = new Set(v.actions);
  const parts = [decisionSummary(v, ctx)];
  if (acts.has("review")) {
    parts.push(form("bo-review", actionPath(v, "review"), () => ({}), ctx, null,
      el("p", "hint", "受理材料已移交，开始审查后方可作出决定 · Start the review to decide"),
      button(["开始审查", "Start review"], "review", "primary")));
  }
  if (acts.has("approve") || acts.has("refuse")) {
    const basis = (v.item_detail.legal_basis || "").slice(0, 120);
    const approve = form("bo-approve", actionPath(v, "approve"),
      (f) => ({ note: value(f, "note"), legal_basis: value(f, "legal_basis") }), ctx, null,
      el("h5", null, bi(["准予许可", "Approve"])),
      field(["审查意见", "Note"], input("note", { multiline: true, max: 500, placeholder: "例如：材料齐全，符合法定条件 · e.g. complete" })),
      field(["法律依据", "Legal basis"], input("legal_basis", { max: 300, placeholder: `默认 default：${basis}` })),
      button(["准予许可", "Approve"], "approve", "primary"));
    const refuse = form("bo-refuse", actionPath(v, "refuse"),
      (f) => ({ reason: value(f, "reason"), legal_basis: value(f, "legal_basis") }), ctx, null,
      el("h5", null, bi(["不予许可", "Refuse"])),
      field(["不予许可理由（必填）", "Reason (required)"], input("reason", { multiline: true, required: true, max: 1000 })),
      field(["法律依据", "Legal basis"], input("legal_basis", { max: 300, placeholder: `默认 default：${basis}` })),
      el("p", "bo-rights",
        "决定书将写明理由，并告知申请人可在收到之日起 60 日内申请行政复议，或 6 个月内提起行政诉讼。",
        el("span", "en", "The decision letter states the reasons and the right to administrative reconsideration within 60 days or litigation within 6 months.")),
      button(["不予许可", "Refuse"], "refuse", "danger"));
    approve.dataset.confirm = "approve";
    refuse.dataset.confirm = "refuse";
    if (!acts.has("approve")) approve.hidden = true;
    if (!acts.has("refuse")) refuse.hidden = true;
    parts.push(el("div", "bo-decide", approve, refuse));
  }
  const body = parts.filter(Boolean);
  if (!body.length) return null;
  return el("section", "bo-sec bo-decision", el("h4", null, bi(["审批决定", "Decision"])), ...body);
}

function pickupCode(v, ctx) {
  const code = ctx.extra.pickup;
  if (!code || code.number !== v.number || v.status !== "result_ready") return null; // gone once delivered
  return el("div", "bo-code", el("span", null, bi(["取件码", "Pickup code"])), el("b", "bo-code-digits", code.code),
    el("span", "hint", "仅显示这一次，请告知申请人；凭码可在 24 小时自助柜自取 · Shown only once; valid at the 24-hour kiosk"),
    el("span", "hint", v.phone_masked
      ? `已通过短信（静默呼叫通道）通知申请人 ${v.phone_masked} · The citizen is notified by SMS`
      : "申请人未留手机号，未发送短信 · No phone number: no SMS sent"));
}

function pickupTicket(v, ctx) {
  const t = ctx.extra.ticket;
  const shown = t && t.case === v.number
    ? el("span", "bo-ticket", `出件号 Ticket ${t.ticket.number}（${t.ticket.queue} 队列 queue，前面 ${t.ticket.ahead} 人 ahead）`)
    : null;
  if (!TICKETERS.has(ctx.me.role)) return shown;
  const f = form("bo-pickup", `/api/v1/cases/${encodeURIComponent(v.number)}/pickup-ticket`, () => undefined, ctx,
    (res) => { ctx.extra.ticket = res; },
    el("h5", null, bi(["统一出件取号", "Output queue ticket"])),
    el("p", "hint", "为申请人取统一出件队列的号，叫号后在出件窗口领取 · A ticket of the output queue"),
    button(["取出件号", "Issue pickup ticket"], "pickup-ticket"), shown);
  return f;
}

/** The output section: result ready, then window hand-over, EMS mailing, pickup ticket, signed receipt. */
export function renderOutput(v, ctx) {
  const acts = new Set(v.actions);
  const parts = [];
  if (acts.has("ready")) {
    parts.push(form("bo-ready", actionPath(v, "ready"), () => ({}), ctx,
      (res) => { ctx.extra.pickup = { number: v.number, code: res.pickup_code }; },
      el("p", "hint", v.phone_masked
        ? `办理结果已出：系统将短信通知申请人（${v.phone_masked}）并生成一次性取件码 · The citizen gets an SMS and a one-time pickup code`
        : "办理结果已出：生成一次性取件码（申请人未留手机号）· A one-time pickup code (no phone: no SMS)"),
      button(["办理结果已出", "Mark result ready"], "ready", "primary")));
  }
  parts.push(pickupCode(v, ctx));
  if (acts.has("deliver")) {
    parts.push(form("bo-deliver", actionPath(v, "deliver"), (f) => ({ note: `领取人 ${value(f, "who")}`.trim() }), ctx, null,
      el("h5", null, bi(["窗口领取", "Hand over at the window"])),
      field(["领取人签字", "Signed by"], input("who", { required: true, max: 60 })),
      button(["确认送达", "Delivered"], "deliver", "primary")));
  }
  if (acts.has("mail")) {
    parts.push(form("bo-mail", actionPath(v, "mail"),
      (f) => ({ recipient: value(f, "recipient"), address: value(f, "address"), waybill: value(f, "waybill") }), ctx, null,
      el("h5", null, bi(["EMS 免费邮寄", "Free EMS mailing"])),
      field(["收件人", "Recipient"], input("recipient", { required: true, max: 64 })),
      field(["地址", "Address"], input("address", { required: true, max: 300 })),
      field(["运单号", "Waybill"], input("waybill", { required: true, max: 32, pattern: "[A-Za-z0-9]+" })),
      button(["登记邮寄", "Record mailing"], "mail")));
  }
  if (v.status === "result_ready") parts.push(pickupTicket(v, ctx));
  if (acts.has("sign")) {
    parts.push(form("bo-sign", actionPath(v, "sign"), (f) => ({ signed_by: value(f, "signed_by") }), ctx, null,
      el("h5", null, bi(["邮件签收回执", "EMS signed receipt"])),
      field(["签收人", "Signed by"], input("signed_by", { max: 64 })),
      button(["登记签收", "Record receipt"], "sign", "primary")));
  }
  const body = parts.filter(Boolean);
  if (!body.length) return null;
  return el("section", "bo-sec bo-output", el("h4", null, bi(["统一出件", "Output"])), el("div", "bo-out-grid", ...body));
}

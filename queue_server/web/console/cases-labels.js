// String catalogue of the case pages at the window (收件受理): every label as [Chinese, English].

export const DOC_KIND = {
  acceptance_receipt: ["受理凭证", "Acceptance receipt"],
  conditional_acceptance_notice: ["容缺受理通知书", "Conditional acceptance notice"],
  commitment_letter: ["告知承诺书", "Commitment letter"],
  one_time_notice: ["一次性告知书", "One-time notice"],
  non_acceptance_notice: ["不予受理通知书", "Non-acceptance notice"],
  approval_decision: ["准予行政许可决定书", "Approval decision"],
  refusal_decision: ["不予行政许可决定书", "Refusal decision"],
  handover_list: ["移交清单", "Hand-over list"],
  submission_receipt: ["自助申报回执", "Submission receipt"],
};

/** Outcome buttons at the window, in the order shown; other actions belong to the back office. */
export const OUTCOMES = [
  ["prereview_pass", ["预审通过", "Pass pre-review"]],
  ["prereview_return", ["预审退回", "Return with notice"]],
  ["accept", ["受理", "Accept"]],
  ["notify_missing", ["一次性告知", "One-time notice"]],
  ["accept_shortfall", ["容缺受理", "Accept, materials to follow"]],
  ["accept_commitment", ["告知承诺", "Accept on commitment"]],
  ["reject", ["不予受理", "Reject"]],
  ["supplement", ["材料已补齐", "Materials supplied"]],
  ["resubmit", ["重新提交", "Resubmit"]],
  ["withdraw", ["撤回", "Withdraw"]],
];

export { CHANNEL } from "./labels.js";

export const PROBLEMS = [
  ["未提交", "Not provided"],
  ["不清晰", "Illegible"],
  ["已过期", "Expired"],
  ["信息不一致", "Details do not match"],
  ["缺少签字盖章", "Signature or seal missing"],
];

export const LIGHT = { green: ["正常", "On time"], yellow: ["临近", "Due soon"], red: ["紧急", "Urgent"] };

export const ROLE = {
  clerk: "窗口", approver: "审批", auditor: "监督", admin: "管理员", kiosk: "自助终端", system: "系统", citizen: "申请人",
};

export const pair = (table, key) => table[key] || [key, key];

/** The Chinese half of a server label "中文 / English", and the English half. */
export function split(label) {
  const i = (label || "").indexOf(" / ");
  return i < 0 ? [label || "", ""] : [label.slice(0, i), label.slice(i + 3)];
}

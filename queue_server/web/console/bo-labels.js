// String catalogue of the back-office page (/console/cases): every label as [Chinese, English].

export const LIGHT = {
  red: ["红灯", "Overdue / due"],
  yellow: ["黄灯", "Due soon"],
  green: ["绿灯", "On time"],
};

export const ACTION = {
  submit: ["提交申报", "Submitted"],
  accept: ["受理", "Accepted"],
  accept_shortfall: ["容缺受理", "Accepted, materials to follow"],
  accept_commitment: ["告知承诺受理", "Accepted on commitment"],
  notify_missing: ["一次性告知", "One-time notice"],
  reject: ["不予受理", "Not accepted"],
  resubmit: ["重新提交", "Resubmitted"],
  supplement: ["补齐材料", "Materials supplied"],
  review: ["开始审查", "Review started"],
  approve: ["准予许可", "Approved"],
  refuse: ["不予许可", "Refused"],
  ready: ["结果已出", "Result ready"],
  deliver: ["已送达", "Delivered"],
  mail: ["EMS 寄出", "Mailed by EMS"],
  sign: ["邮件签收", "EMS signed"],
  withdraw: ["撤回", "Withdrawn"],
  chain: ["一链办理", "Part of a chain"],
};

export const DOCUMENT = {
  submission_receipt: ["自助申报回执", "Submission receipt"],
  acceptance_receipt: ["受理凭证", "Acceptance receipt"],
  conditional_acceptance_notice: ["容缺受理通知书", "Conditional acceptance notice"],
  commitment_letter: ["告知承诺书", "Commitment letter"],
  one_time_notice: ["一次性告知书", "One-time notice"],
  non_acceptance_notice: ["不予受理通知书", "Non-acceptance notice"],
  handover_list: ["移交清单", "Hand-over list"],
  approval_decision: ["准予行政许可决定书", "Approval decision"],
  refusal_decision: ["不予行政许可决定书", "Refusal decision"],
};

export const DELIVERY = {
  window: ["统一出件窗口领取", "Collected at the output window"],
  ems: ["EMS 免费邮寄", "Free EMS mailing"],
  self_pickup: ["24小时自助柜取件", "24-hour kiosk pickup"],
};

export const DELIVERY_STATUS = {
  prepared: ["待领取", "Waiting"],
  mailed: ["已寄出", "Mailed"],
  delivered: ["已送达", "Delivered"],
};

export { CHANNEL } from "./labels.js";

export const ROLE = {
  clerk: ["窗口人员", "Clerk"],
  approver: ["审批人员", "Approver"],
  auditor: ["监督人员", "Auditor"],
  admin: ["管理员", "Admin"],
  kiosk: ["自助终端", "Kiosk"],
  system: ["系统", "System"],
  citizen: ["申请人", "Applicant"],
};

// The list views: the worklist (time limit running) and the output stages.
export const VIEWS = [
  ["running", ["审批中（计时）", "Timed"], null],
  ["decided", ["已决定待出件", "To output"], ["approved", "refused"]],
  ["ready", ["待领取", "Ready"], ["result_ready"]],
  ["mailed", ["已邮寄", "Mailed"], ["mailed"]],
  ["delivered", ["已送达", "Delivered"], ["delivered"]],
  ["submitted", ["待受理", "To accept"], ["submitted", "needs_more"]],
];

export const pair = (table, key) => table[key] || [key, key];

/** A server label "中文 / English" as a pair. */
export function split(label) {
  const i = (label || "").indexOf(" / ");
  return i < 0 ? [label || "", ""] : [label.slice(0, i), label.slice(i + 3)];
}

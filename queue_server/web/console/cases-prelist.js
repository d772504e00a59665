// 网上预审: the front desk's list of web cases waiting for pre-review (or returned, or passed), masked, oldest
// first; a click opens the case, whose window offers 预审通过 and 预审退回 (cases-preforms.js). A chain
// (一链办理) is one entry with its members, opened as one (cases-prereview-chain.js).

import { bi, el } from "./dom.js";
import { hallPath } from "./api.js";
import { showDialog, statusBadge, when } from "./cases-view.js";
import { showChain } from "./cases-prereview-chain.js";

const TABS = [
  ["prereview", ["待预审", "Waiting"]],
  ["prereview_returned", ["已退回", "Returned"]],
  ["prereview_passed", ["已通过", "Passed"]],
];

/** Open the 网上预审 list in the case dialog (`status`: which tab); `open(number)` shows a case. */
export async function showPrereview(ctx, open, status = "prereview") {
  let cases;
  try {
    cases = await ctx.get(`${hallPath(ctx.hall)}/prereview?status=${status}`);
  } catch (err) {
    ctx.notify(err.message);
    return;
  }
  const tabs = el("div", "pr-tabs", ...TABS.map(([s, label]) => {
    const b = el("button", s === status ? "chosen" : null, bi(label));
    b.type = "button";
    b.dataset.status = s;
    b.setAttribute("aria-pressed", String(s === status));
    b.onclick = () => showPrereview(ctx, open, s);
    return b;
  }));
  const rows = cases.map((c) => {
    const chain = c.kind === "chain"; // 一链办理: one entry for the chain, its members under its name
    const num = el("button", "link", c.number);
    num.type = "button";
    num.onclick = () => (chain ? showChain(ctx, c.number, open) : open(c.number));
    const item = chain
      ? el("div", "pr-chain", el("span", "badge pr-chain-tag", "一链办理"), " ", c.item_name,
        el("ul", "pr-members", ...c.members.map((m) => {
          const li = el("li", null, `${m.number} ${m.item_name}`);
          li.dataset.member = m.number;
          return li;
        })))
      : c.item_name;
    const tr = el("tr", chain ? "pr-chain-row" : null, el("td", null, num), el("td", null, item),
      el("td", "pii", c.applicant_masked), el("td", "pii", c.id_number_masked), el("td", "pii", c.phone_masked || "—"),
      el("td", null, when(c.submitted_at, ctx.tz)), el("td", null, when(c.updated_at, ctx.tz)),
      el("td", null, c.smart_failed.length ? el("span", "pr-smart", `${c.smart_failed.length} 条规则未通过`) : "—"),
      el("td", null, statusBadge(c.status, c.status_label, true)));
    tr.dataset.number = c.number;
    if (chain) tr.dataset.chain = String(c.members.length);
    return tr;
  });
  const head = [["办件编号", "Case"], ["事项", "Item"], ["申请人", "Applicant"], ["证件号码", "ID number"], ["手机", "Phone"],
    ["提交", "Submitted"], ["更新", "Updated"], ["秒批规则", "Rules"], ["状态", "Status"]];
  const table = el("table", "grid pr-table",
    el("thead", null, el("tr", null, ...head.map((h) => el("th", null, bi(h))))),
    el("tbody", null, ...rows));
  const empty = el("p", "muted", "没有网上申报的办件 · No web cases here");
  const box = el("div", "prereview-list", tabs,
    el("p", "hint", "群众在网上提交的申报：打开后核对材料，预审通过或一次性告知需修改的内容退回 · Web applications: open one, check it, pass it or return it with everything to fix"),
    rows.length ? table : empty);
  box.dataset.status = status;
  box.dataset.count = String(rows.length);
  showDialog([el("span", "cd-number", bi(["网上预审", "Online pre-review"]))], box);
}

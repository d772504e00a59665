// 一链办理 in the back office: the chain a case belongs to, with every member's state and deadline light
// (并联审批: each member has its own approver and light; the chain is ready when the last one is decided).
// Rendered with textContent only; a click on another member opens it.

import { bi, el } from "./dom.js";
import { LIGHT, pair, split } from "./bo-labels.js";

function due(m) {
  if (!m.light) return el("span", "muted", m.deadline || "—");
  const left = m.days_left < 0 ? `超期 ${-m.days_left}` : `剩 ${m.days_left}`;
  return el("span", `bo-light light-${m.light}`, el("span", `dot light-${m.light}`), `${m.deadline}（${left} 个工作日）`);
}

// what a clerk does with the chain as a whole: the one acceptance and the one hand-over
const WHOLE = {
  submitted: ["accept", ["整体受理", "Accept the whole chain"]],
  result_ready: ["deliver", ["整体出件", "Hand over every result"]],
};

function wholeButton(c, ctx) {
  const whole = WHOLE[c.status];
  if (!whole || !["clerk", "admin"].includes(ctx.me.role)) return null;
  const b = el("button", "small primary", bi(whole[1]));
  b.type = "button";
  b.dataset.action = `chain-${whole[0]}`;
  b.onclick = async () => {
    b.disabled = true;
    await ctx.act(`/api/v1/chain-cases/${encodeURIComponent(c.number)}/actions/${whole[0]}`, {});
  };
  return b;
}

/** The chain section of a member case's view (null for a case outside any chain). */
export function renderChain(v, ctx) {
  const c = v.chain;
  if (!c) return null;
  const select = ctx.select;
  const [stZh, stEn] = split(c.status_label);
  const rows = c.members.map((m) => {
    const [zh, en] = split(m.status_label);
    const light = m.light ? pair(LIGHT, m.light)[0] : "";
    const li = el("li", `bo-chain-member${m.self ? " self" : ""}`,
      el("span", `dot light-${m.light || "none"}`),
      el("b", "bo-chain-no", m.number),
      el("span", "bo-chain-item", m.item_name),
      el("span", `badge bo-status st-${m.status}`, bi([zh, en])),
      due(m),
      m.self ? el("span", "bo-chain-self", bi(["本件", "this case"])) : null);
    li.dataset.member = m.number;
    li.dataset.status = m.status;
    li.title = light;
    if (!m.self) {
      li.tabIndex = 0;
      li.onclick = () => select(m.number);
      li.onkeydown = (e) => { if (e.key === "Enter") select(m.number); };
    }
    return li;
  });
  const decided = c.members.filter((m) => ["approved", "refused", "result_ready", "delivered"].includes(m.status)).length;
  const box = el("section", "bo-sec bo-chain",
    el("h4", null, bi(["一链办理", "One chain"]), " ",
      el("span", "bo-chain-name", `${c.name} · ${c.number}`), " ",
      el("span", `badge bo-status st-${c.status}`, bi([stZh, stEn])), wholeButton(c, ctx)),
    el("p", "muted bo-chain-hint",
      `并联审批：已决定 ${decided}/${c.members.length}，全部决定后统一出件 · `,
      el("span", "en", `Parallel approval: ${decided} of ${c.members.length} decided; one output when all are`)),
    el("ol", "bo-chain-list", ...rows));
  box.dataset.chain = c.number;
  return box;
}

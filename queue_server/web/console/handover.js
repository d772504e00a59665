// 移交清单: accepted cases not yet handed over, ticked into one batch whose list (PDF) goes with the files
// to the back office; the lists made before, with who received them.

import { bi, el } from "./dom.js";
import { hallPath } from "./api.js";
import { docLinks, say, showDialog, statusBadge, when } from "./cases-view.js";

const WAITING = ["accepted", "accepted_pending_supplement", "accepted_on_commitment"];

function table(head, rows, cls) {
  return el("table", `grid ${cls}`,
    el("thead", null, el("tr", null, ...head.map((h) => el("th", null, h instanceof Node ? h : bi(h))))),
    el("tbody", null, ...rows));
}

/** Open the hand-over view in the case dialog; `open(number)` shows a case. */
export async function showHandover(ctx, open) {
  const base = hallPath(ctx.hall);
  let waiting;
  let lists;
  try {
    const q = WAITING.map((s) => `status=${s}`).join("&");
    [waiting, lists] = await Promise.all([ctx.get(`${base}/cases?${q}`), ctx.get(`${base}/handovers`)]);
  } catch (err) {
    ctx.notify(err.message);
    return;
  }
  waiting = waiting.filter((c) => !c.handed_over);
  const all = el("input", "ho-all");
  all.type = "checkbox";
  all.title = "全选 · All";
  const rows = waiting.map((c) => {
    const box = el("input", "ho-tick");
    box.type = "checkbox";
    box.value = c.number;
    const num = el("button", "link", c.number);
    num.type = "button";
    num.onclick = () => open(c.number);
    const tr = el("tr", null, el("td", null, box), el("td", null, num), el("td", null, c.item_name),
      el("td", null, c.applicant_masked), el("td", null, statusBadge(c.status, c.status_label)),
      el("td", null, c.deadline || "—"));
    tr.dataset.number = c.number;
    return tr;
  });
  all.onchange = () => {
    for (const r of rows) r.querySelector(".ho-tick").checked = all.checked;
  };
  const make = el("button", "primary", bi(["生成移交清单", "Create the hand-over list"]));
  make.type = "button";
  make.id = "ho-create";
  make.disabled = !rows.length;
  make.onclick = async () => {
    const cases = rows.map((r) => r.querySelector(".ho-tick")).filter((b) => b.checked).map((b) => b.value);
    if (!cases.length) return say("请勾选要移交的办件 · Tick the cases of this batch");
    make.disabled = true;
    try {
      const h = await ctx.post(`${base}/handovers`, { cases });
      await showHandover(ctx, open);
      say(`已生成移交清单 ${h.number}（${h.cases.length} 件） · List ${h.number} created`, "ok");
      const mine = document.querySelector(`#case-dialog tr[data-handover="${h.number}"] .ho-pdf`);
      if (mine) mine.replaceChildren(docLinks(h.url, `${h.number}.pdf`, true));
    } catch (err) {
      say(err.message);
      make.disabled = false;
    }
  };
  const pending = el("section", "case-sec",
    el("h4", null, bi(["待移交办件", "Accepted, not yet handed over"]), el("span", "count-pill", String(rows.length))),
    rows.length
      ? table([all, ["办件编号", "Case"], ["事项", "Item"], ["申请人", "Applicant"], ["状态", "Status"], ["办结期限", "Due"]], rows, "ho-table")
      : el("p", "muted", "没有待移交的办件 · Nothing to hand over"),
    el("div", "form-actions", make));
  const past = lists.map((h) => {
    const pdf = el("td", "ho-pdf");
    const show = el("button", null, bi(["清单", "PDF"]));
    show.type = "button";
    show.onclick = () => pdf.replaceChildren(docLinks(h.url, `${h.number}.pdf`, true));
    pdf.append(show);
    const tr = el("tr", null, el("td", null, h.number), el("td", null, when(h.created_at, ctx.tz)), el("td", null, h.created_by_name),
      el("td", "ho-cases", h.cases.join("、")),
      el("td", h.received_at ? "ok" : "warn", h.received_at ? `${h.received_by_name} ${when(h.received_at, ctx.tz)}` : "未签收 · Not received"),
      pdf);
    tr.dataset.handover = h.number;
    return tr;
  });
  const history = el("section", "case-sec",
    el("h4", null, bi(["已生成的移交清单", "Hand-over lists"])),
    past.length
      ? table([["清单编号", "List"], ["生成时间", "Made"], ["经办人", "By"], ["办件", "Cases"], ["后台签收", "Received"], ["", ""]], past, "ho-lists")
      : el("p", "muted", "尚无 · None yet"));
  showDialog([bi(["移交清单", "Hand-over to the back office"])], el("div", "handover", pending, history));
}

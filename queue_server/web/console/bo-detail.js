// One case as the back office sees it: item, situation, masked applicant (audited "show in full"),
// materials and documents (opened with the staff token), deliveries and the history timeline.

import { post, token } from "./api.js";
import { bi, el, notify } from "./dom.js";
import { ACTION, CHANNEL, DELIVERY, DELIVERY_STATUS, DOCUMENT, LIGHT, ROLE, pair, split } from "./bo-labels.js";
import { renderDecision, renderOutput } from "./bo-actions.js";
import { renderChain } from "./bo-chain.js";

const REVEALERS = new Set(["clerk", "approver", "admin"]);

/** YYYY-MM-DD HH:MM of an ISO instant in the hall's timezone. */
export function fmt(iso, tz) {
  if (!iso) return "";
  try {
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
      timeZone: tz || undefined, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  } catch {
    return iso.slice(0, 16).replace("T", " ");
  }
}

/**
 * Open a staff-only file (PDF, scan) in a new tab. The files need the bearer token, so the page fetches
 * them and hands the tab a blob: URL; the tab is opened at the click so no popup blocker stops it.
 */
export async function openFile(path) {
  const tab = window.open("", "_blank");
  try {
    const r = await fetch(path, { headers: { Authorization: `Bearer ${token()}` }, credentials: "omit" });
    if (!r.ok) throw new Error(`无法打开文件 / Cannot open the file (${r.status})`);
    const url = URL.createObjectURL(await r.blob());
    if (tab) tab.location.href = url;
    else location.assign(url);
    setTimeout(() => URL.revokeObjectURL(url), 120000);
  } catch (err) {
    if (tab) tab.close();
    notify(err.message);
  }
}

function fact(label, value, cls = "fact") {
  return el("div", cls, el("dt", null, bi(label)), el("dd", null, value ?? "—"));
}

function section(title, ...children) {
  return el("section", "bo-sec", el("h4", null, bi(title)), ...children);
}

function openButton(label, path, cls = "small") {
  const b = el("button", cls, bi(label));
  b.type = "button";
  b.onclick = () => openFile(path);
  return b;
}

function head(v, tz) {
  const item = v.item;
  const sit = (v.item_detail.situations || []).find((x) => x.code === v.situation);
  const [stZh, stEn] = split(v.status_label);
  const light = v.light ? el("span", `bo-light light-${v.light}`, el("span", `dot light-${v.light}`), bi(pair(LIGHT, v.light))) : null;
  const due = v.light === null || v.days_left === null ? v.deadline || "—"
    : `${v.deadline}（${v.days_left < 0 ? `超期 ${-v.days_left}` : `剩 ${v.days_left}`} 个工作日 working days）`;
  return el("div", "bo-head",
    el("div", "bo-title",
      el("span", "bo-case-no", v.number),
      el("span", `badge bo-status st-${v.status}`, bi([stZh, stEn])),
      light),
    el("div", "bo-item-name", item.name, el("span", "en", `${item.name_en} · ${item.code} v${item.version}`)),
    el("dl", "facts",
      fact(["办理情形", "Situation"], sit ? `${sit.name} ${sit.name_en}` : v.situation),
      fact(["申报渠道", "Channel"], pair(CHANNEL, v.channel).join(" ")),
      fact(["提交时间", "Submitted"], fmt(v.submitted_at, tz)),
      fact(["承诺时限", "Time limit"], `${v.time_limit_days} 个工作日 working days`),
      fact(["办结期限", "Deadline"], due),
      fact(["移交", "Handed over"], v.handed_over ? "已移交 Yes" : "未移交 Not yet")));
}

function applicant(v, ctx) {
  const facts = el("dl", "facts",
    fact(["申请人", "Applicant"], v.applicant_masked),
    fact(["身份证号", "ID number"], v.id_number_masked),
    fact(["手机", "Phone"], v.phone_masked || "未留 none"));
  const box = el("div", "bo-person", facts);
  if (REVEALERS.has(ctx.me.role)) {
    const b = el("button", "small reveal", bi(["显示完整信息", "Show in full"]));
    b.type = "button";
    b.dataset.action = "reveal";
    b.onclick = async () => {
      b.disabled = true;
      try {
        const r = await post(`/api/v1/cases/${encodeURIComponent(v.number)}/reveal`);
        const full = el("dl", "facts bo-full",
          fact(["姓名", "Name"], r.name), fact(["身份证号", "ID number"], r.id_number), fact(["手机", "Phone"], r.phone || "—"),
          ...Object.entries(r.form || {}).map(([k, val]) => fact([k, ""], val === null ? "—" : String(val))));
        facts.replaceWith(full);
        b.remove();
      } catch (err) {
        b.disabled = false;
        notify(err.message);
      }
    };
    box.append(el("div", "reveal-row", b, el("span", "audit-note", "查看将记入审计日志 · Every look is audited")));
  }
  return box;
}

function materialName(v, code) {
  for (const sit of v.item_detail.situations || []) {
    const m = (sit.materials || []).find((x) => x.code === code);
    if (m) return [m.name, m.name_en];
  }
  return [code, ""];
}

function files(v) {
  const mats = v.materials.map((m) => {
    const li = el("li", null, el("div", null, bi(materialName(v, m.material)),
      el("span", "muted", `${m.content_type.split("/")[1].toUpperCase()} · ${Math.max(1, Math.round(m.size / 1024))} KB`)),
      openButton(["查看", "Open"], `/api/v1/cases/${encodeURIComponent(v.number)}/materials/${m.id}`));
    li.dataset.material = String(m.id);
    return li;
  });
  const docs = v.documents.map((d) => {
    const li = el("li", null, el("div", null, bi(pair(DOCUMENT, d.kind)), el("span", "muted", d.document_no || "")),
      openButton(["打开 PDF", "Open PDF"], d.url));
    li.dataset.document = d.kind;
    return li;
  });
  return el("div", "bo-files",
    section(["申请材料", "Materials"], mats.length ? el("ul", "bo-file-list", ...mats) : el("p", "muted", "无 · None")),
    section(["文书", "Documents"], docs.length ? el("ul", "bo-file-list", ...docs) : el("p", "muted", "无 · None")));
}

function deliveries(v, tz) {
  if (!v.deliveries.length) return null;
  const rows = v.deliveries.map((d) => {
    const detail = [
      d.ticket ? `出件号 Ticket ${d.ticket}` : "",
      d.waybill ? `运单号 Waybill ${d.waybill}` : "",
      d.recipient_masked ? `收件人 To ${d.recipient_masked}` : "",
      d.signed_by_masked ? `签收人 Signed by ${d.signed_by_masked}` : "",
    ].filter(Boolean).join(" · ");
    const tr = el("tr", null, el("td", null, bi(pair(DELIVERY, d.method))), el("td", null, bi(pair(DELIVERY_STATUS, d.status))),
      el("td", null, detail), el("td", "muted", fmt(d.created_at, tz)), el("td", "muted", fmt(d.delivered_at, tz)));
    tr.dataset.delivery = d.method;
    tr.dataset.status = d.status;
    return tr;
  });
  const th = (zh, en) => el("th", null, zh, el("span", "en", en));
  return section(["送达登记", "Deliveries"], el("table", "grid bo-deliveries",
    el("thead", null, el("tr", null, th("方式", "Method"), th("状态", "Status"), th("详情", "Detail"), th("登记", "Registered"), th("送达", "Delivered"))),
    el("tbody", null, ...rows)));
}

function history(v, tz) {
  const items = v.history.slice().reverse().map((h) => {
    const li = el("li", null,
      el("span", "bo-at", fmt(h.at, tz)),
      el("span", "bo-what", bi(pair(ACTION, h.action))),
      el("span", "bo-who", h.role === "citizen" ? bi(pair(ROLE, h.role)) : `${h.actor_name || h.actor} · ${pair(ROLE, h.role)[0]}`),
      h.channel ? el("span", "bo-note bo-channel", bi(pair(CHANNEL, h.channel))) : null,
      h.note ? el("span", "bo-note", h.note) : null);
    li.dataset.action = h.action;
    return li;
  });
  return section(["办理记录", "History"], el("ol", "bo-timeline", ...items));
}

/** What staff typed into the forms of the case shown, so a live refresh does not wipe it. */
function drafts(box, number) {
  if (box.dataset.number !== number) return [];
  return [...box.querySelectorAll("form input, form textarea")].filter((i) => i.value)
    .map((i) => [`form.${i.form.classList[1]} [name="${i.name}"]`, i.value]);
}

/** Render the whole case into `box` (replacing what was there, keeping typed drafts of the same case). */
export function renderCase(box, v, ctx) {
  const kept = drafts(box, v.number);
  const parts = [
    head(v, ctx.tz),
    renderChain(v, ctx),
    applicant(v, ctx),
    renderDecision(v, ctx),
    renderOutput(v, ctx),
    deliveries(v, ctx.tz),
    files(v),
    history(v, ctx.tz),
  ];
  box.replaceChildren(...parts.filter(Boolean));
  for (const [sel, val] of kept) {
    const i = box.querySelector(sel);
    if (i) i.value = val;
  }
  box.dataset.number = v.number;
  box.dataset.status = v.status;
}

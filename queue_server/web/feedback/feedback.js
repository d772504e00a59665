// Public feedback page: complaints (吐槽找茬, optionally anonymous), following one by its code and query code
// (or the phone's last four digits), and rating a
// ticket online by its track token (一次一评: the link on the ticket's tracking page, ?t=<token>).
import { FAILED, detail, mountRating, post, span } from "/static/shared/rating.js";
import { both, label, t } from "./strings.js";

const $ = (id) => document.getElementById(id);
const HALL = decodeURIComponent(location.pathname.split("/")[2] || "");
const TRACK = new URLSearchParams(location.search).get("t");
let catalogue = null;

function show(id, text, error) {
  $(id).textContent = text;
  $(id).className = error ? "result error" : "result";
}

async function complain(ev) {
  ev.preventDefault();
  const anonymous = $("anonymous").checked;
  try {
    const c = await post(`/api/v1/halls/${encodeURIComponent(HALL)}/complaints`, {
      category: $("category").value,
      content: $("content").value,
      name: anonymous ? "" : $("name").value,
      phone: anonymous ? "" : $("phone").value,
    });
    show("complaint-result", both("filed", { code: c.code, proof: c.query_code }));
    $("complaint-result").dataset.code = c.code;
    $("complaint-result").dataset.proof = c.query_code;
    $("complaint-form").reset();
    $("contact").hidden = true;
  } catch (e) {
    show("complaint-result", FAILED + e.message, true);
  }
}

async function lookup(ev) {
  ev.preventDefault();
  const out = $("lookup-result");
  out.replaceChildren();
  const proof = encodeURIComponent($("proof").value.trim());
  const r = await fetch(`/api/v1/complaints/${encodeURIComponent($("code").value.trim())}?proof=${proof}`);
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    out.append(span(detail(data, r.status)));
    return;
  }
  const state = catalogue.complaint_states.find((s) => s.code === data.status);
  const rows = [
    ["status", both("status"), state ? `${state.zh} / ${state.en}` : data.status],
    ["answer", both("answer"), data.answer || "—"],
    ["answer-by", both("answer_by"), data.deadline.slice(0, 10)],
  ];
  for (const [field, k, v] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.field = field;
    out.append(dt, dd);
  }
}

async function start() {
  label();
  $("code").setAttribute("aria-label", both("reference"));
  $("proof").placeholder = both("proof");
  $("proof").setAttribute("aria-label", both("proof"));
  catalogue = await (await fetch("/api/v1/feedback/catalogue")).json();
  const halls = await (await fetch("/api/v1/halls")).json();
  const h = halls.find((x) => x.code === HALL);
  if (h) {
    const heading = t("heading");
    $("hall-name").textContent = `${h.name} · ${heading.zh}`;
    $("hall-name-en").textContent = `${h.name_en || h.code} · ${heading.en}`;
  }
  for (const c of catalogue.complaint_categories) $("category").append(new Option(`${c.zh} / ${c.en}`, c.code));
  $("anonymous").addEventListener("change", () => ($("contact").hidden = $("anonymous").checked));
  $("complaint-form").addEventListener("submit", complain);
  $("lookup-form").addEventListener("submit", lookup);
  if (TRACK) {
    $("rate").hidden = false;
    const t = await fetch(`/api/v1/track/${encodeURIComponent(TRACK)}`);
    if (t.ok) $("rate-number").textContent = (await t.json()).number || "";
    const els = { levels: $("levels"), reasons: $("reasons"), comment: $("rate-comment"), submit: $("rate-submit") };
    mountRating({ ...els, result: $("rate-result") }, catalogue, HALL, TRACK);
  }
  document.body.dataset.ready = "true";
}

start();

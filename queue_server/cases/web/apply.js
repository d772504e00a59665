// 网上申报 · 网上预审: choose an item and situation, fill its form and upload its materials, prove the phone with
// a one-time code, submit (POST /api/v1/halls/{hall}/cases with X-Phone-Proof). The case then waits for the
// clerk's pre-review; "我的申报" opens it again (apply-case.js). `?hall=` picks the hall, `?n=&p=` opens a case.

import { bi, el, fieldInputs, idProblem, itemList, limitText, materialRows, phoneBox, readFields,
  readMaterials, situationPicker } from "./apply-form.js";
import { api, errorText, limits, newId, openCase, proofFor, prove, S, showError, strings } from "./apply-case.js";

const $ = (id) => document.getElementById(id);
const state = { hall: null, items: [], item: null, situation: null };

function tab(which) {
  $("tab-new").setAttribute("aria-pressed", String(which === "new"));
  $("tab-open").setAttribute("aria-pressed", String(which !== "new"));
  $("apply").hidden = which !== "new";
  $("open").hidden = which !== "open";
  $("done").hidden = true;
  $("case").hidden = which !== "case";
  $("error").hidden = true;
}

function showItems() {
  $("items").replaceChildren(...itemList(state.items, $("item-q").value, pickItem));
  if (!$("items").children.length) $("items").append(el("p", "hint", S.no_items));
}

async function pickItem(code) {
  const r = await api(`/api/v1/items/${encodeURIComponent(code)}`);
  if (!r.ok) return showError(await errorText(r));
  state.item = await r.json();
  state.situation = state.item.situations.length === 1 ? state.item.situations[0].code : null;
  const it = state.item;
  const change = el("button", "link", S.change);
  change.type = "button";
  change.addEventListener("click", () => {
    state.item = null;
    $("step-form").hidden = $("step-who").hidden = true;
    $("step-item").hidden = false;
    $("item-q").focus();
  });
  $("item-head").replaceChildren(el("div", null, el("h3", null, bi(it.name, it.name_en)),
    el("p", "meta", `${it.department} · ${limitText(it.time_limit_days)} · ${it.fees}`),
    it.prereview_output ? el("p", "good", S.output_item) : null, change));
  $("step-item").hidden = true;
  $("step-form").hidden = false;
  renderSituation();
  document.body.dataset.item = it.code;
  $("step-form").scrollIntoView({ block: "start" });
}

function renderSituation() {
  const it = state.item;
  $("situations").replaceChildren(
    el("p", "label", bi("办事情形", "Your situation")),
    ...situationPicker(it.situations, state.situation, (code) => {
      state.situation = code;
      renderSituation();
    }));
  const sit = it.situations.find((s) => s.code === state.situation);
  $("fields").replaceChildren(...(sit ? fieldInputs(it.form_fields[sit.code] || []) : []));
  $("materials").replaceChildren(...(sit ? materialRows(sit.materials) : []));
  $("materials").hidden = !sit;
  $("step-who").hidden = !sit;
  document.body.dataset.situation = state.situation || "";
}

async function askCode(phone) {
  $("error").hidden = true;
  const r = await api(`/api/v1/halls/${state.hall.code}/web-cases/code`, { method: "POST", json: { phone } });
  if (r.status === 202) {
    document.body.dataset.codeSent = "1";
    return true;
  }
  showError(await errorText(r));
  return false;
}

async function submit(ev) {
  ev.preventDefault();
  $("error").hidden = true;
  const problems = [];
  const name = $("name").value.trim();
  const idn = $("id-number").value.replace(/\s/g, "").toUpperCase();
  if (!name) problems.push(S.need_name);
  const idp = idProblem(idn);
  if (idp) problems.push(idp);
  const { values, missing } = readFields($("fields"));
  for (const m of missing) problems.push(`请填写“${m}” / Fill in '${m}'`);
  const mats = readMaterials($("materials"), limits.maxKb);
  problems.push(...mats.problems);
  const phone = $("phone-box").querySelector("[data-role=phone]").value.trim();
  const code = $("phone-box").querySelector("[data-role=code]").value.trim();
  let proof = proofFor(state.hall.code, phone);
  if (!proof && !/^\d{6}$/.test(code)) problems.push(S.need_code);
  if (problems.length) return showError(problems.join("\n"));
  $("submit").disabled = true;
  $("sending").hidden = false;
  try {
    proof = proof || (await prove(state.hall.code, phone, code));
    if (!proof) return;
    const form = { ...values };
    if (mats.later.length) form.bring_later = mats.later.join(",");
    if (mats.commit.length) form.commit = mats.commit.join(",");
    const data = {
      submission_id: newId(), item: state.item.code, item_version: state.item.version, situation: state.situation,
      applicant: { name, id_number: idn, phone }, form,
    };
    const body = new FormData();
    body.append("data", JSON.stringify(data));
    for (const [material, f] of mats.files) body.append(`file.${material}`, f, f.name);
    const r = await api(`/api/v1/halls/${state.hall.code}/cases`, { method: "POST", body, headers: { "X-Phone-Proof": proof } });
    if (!r.ok) return showError(await errorText(r));
    const c = await r.json();
    sessionStorage.setItem(`apply-case-${c.number}`, c.query_token);
    $("done-number").textContent = c.number;
    $("done-code").textContent = c.query_token;
    $("apply").hidden = true;
    $("done").hidden = false;
    $("done").dataset.number = c.number;
    document.body.dataset.submitted = c.number;
    $("done").scrollIntoView({ block: "start" });
  } finally {
    $("submit").disabled = false;
    $("sending").hidden = true;
  }
}

async function start() {
  strings();
  const params = new URLSearchParams(location.search);
  const halls = await (await api("/api/v1/halls")).json();
  state.hall = halls.find((h) => h.code === params.get("hall")) || halls[0];
  $("hall-name").replaceChildren(bi(state.hall.name, state.hall.name_en));
  const kb = state.hall.case_upload_max_kb || 10240;
  limits.maxKb = kb;
  limits.tz = state.hall.timezone || "Asia/Shanghai";
  $("limits").textContent = `JPG、PNG 或 PDF，每个文件不超过 ${Math.round(kb / 1024)} MB / JPG, PNG or PDF, up to ${Math.round(kb / 1024)} MB each`;
  $("phone-box").replaceChildren(...phoneBox(askCode));
  $("open-phone").replaceChildren(...phoneBox(async (phone) => {
    const r = await api(`/api/v1/halls/${state.hall.code}/web-cases/code`, { method: "POST", json: { phone } });
    if (r.status !== 202) showError(await errorText(r));
    return r.status === 202;
  }));
  $("tab-new").addEventListener("click", () => tab("new"));
  $("tab-open").addEventListener("click", () => tab("open"));
  $("item-q").addEventListener("input", showItems);
  $("apply").addEventListener("submit", submit);
  $("done-open").addEventListener("click", () => {
    const n = $("done").dataset.number;
    tab("case");
    openCase(n, { case: sessionStorage.getItem(`apply-case-${n}`) });
  });
  $("open").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const n = $("open-number").value.trim();
    tab("case");
    openCase(n, { case: $("open-code").value.trim().toUpperCase() });
  });
  $("open-by-phone").addEventListener("click", async () => {
    const box = $("open-phone");
    const phone = box.querySelector("[data-role=phone]").value.trim();
    const proof = proofFor(state.hall.code, phone)
      || (await prove(state.hall.code, phone, box.querySelector("[data-role=code]").value.trim()));
    if (!proof) return;
    const n = $("open-number").value.trim();
    tab("case");
    openCase(n, { phone: proof });
  });
  const r = await api("/api/v1/items");
  state.items = r.ok ? await r.json() : [];
  showItems();
  if (params.get("n")) {
    $("open-number").value = params.get("n");
    tab("open");
    if (params.get("p")) {
      tab("case");
      await openCase(params.get("n"), { case: params.get("p") });
    }
  }
  document.body.dataset.ready = "1";
}

start();

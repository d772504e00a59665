// 网上申报 · 网上预审: choose an item and situation — or a chain (一件事一次办: several items, one form, each
// material once) — fill its form and upload its materials, prove the phone with a one-time code, submit
// (POST /api/v1/halls/{hall}/cases, or …/chains, with X-Phone-Proof). The application then waits for the
// clerk's pre-review; "我的申报" opens it again (apply-case.js). `?hall=` picks the hall, `?n=&p=` opens one.

import { bi, chainEntry, chainFields, el, fieldInputs, idProblem, idTypeOptions, itemList, limitText, materialRows,
  phoneBox, readFields, readMaterials, situationPicker } from "./apply-form.js";
import { api, errorText, limits, newId, openCase, proofFor, prove, S, showError, strings } from "./apply-case.js";

const $ = (id) => document.getElementById(id);
const state = { hall: null, items: [], item: null, situation: null, chain: null };

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

function changeButton() {
  const change = el("button", "link", S.change);
  change.type = "button";
  change.addEventListener("click", () => {
    state.item = state.chain = null;
    $("step-form").hidden = $("step-who").hidden = true;
    $("step-item").hidden = false;
    $("item-q").focus();
  });
  return change;
}

async function pickItem(code) {
  if (state.items.find((x) => x.code === code)?.chain) return pickChain(code);
  const r = await api(`/api/v1/items/${encodeURIComponent(code)}`);
  if (!r.ok) return showError(await errorText(r));
  state.item = await r.json();
  state.chain = null;
  delete document.body.dataset.chain;
  state.situation = state.item.situations.length === 1 ? state.item.situations[0].code : null;
  const it = state.item;
  $("item-head").replaceChildren(el("div", null, el("h3", null, bi(it.name, it.name_en)),
    el("p", "meta", `${it.department} · ${limitText(it.time_limit_days)} · ${it.fees}`),
    it.prereview_output ? el("p", "good", S.output_item) : null, changeButton()));
  showForm(it.code);
  renderSituation();
}

function showForm(code) {
  $("step-item").hidden = true;
  $("step-form").hidden = false;
  document.body.dataset.item = code;
  $("step-form").scrollIntoView({ block: "start" });
}

/** 一件事一次办: the chain's members, its one form (each shared field once) and one material list (each
 * material once, with the items that use it). */
async function pickChain(code) {
  const r = await api(`/api/v1/chains/${encodeURIComponent(code)}`);
  if (!r.ok) return showError(await errorText(r));
  const c = await r.json();
  state.chain = c;
  state.item = null;
  state.situation = "chain";
  const names = Object.fromEntries(c.members.map((m) => [m.item, m.name]));
  const members = el("ol", "members", ...c.members.map((m) => {
    const li = el("li", null, bi(m.name, m.name_en), el("span", "meta", `${m.department} · ${limitText(m.time_limit_days)}`));
    li.dataset.item = m.item;
    return li;
  }));
  $("item-head").replaceChildren(el("div", "chain-head", el("p", "tag chain-tag", S.chain_tag),
    el("h3", null, bi(c.name, c.name_en)), c.summary ? el("p", "meta", bi(c.summary, c.summary_en)) : null,
    el("p", "label", bi(`一次申请以下 ${c.members.length} 个事项（并联审批，统一出件）`,
      `${c.members.length} services in one application (approved in parallel, one output)`)), members,
    el("p", "meta", `${S.chain_limit} ${limitText(c.time_limit_days)}`), changeButton()));
  $("situations").replaceChildren();
  $("fields").replaceChildren(el("p", "hint", S.chain_fields), ...fieldInputs(chainFields(c.fields)));
  $("materials").replaceChildren(...materialRows(c.materials.map((m) => ({ ...m,
    used_by_names: m.used_by.length > 1 || c.members.length > 1 ? m.used_by.map((it) => names[it] || it) : null }))));
  $("materials").hidden = false;
  $("step-who").hidden = false;
  showForm(c.code);
  document.body.dataset.chain = c.code;
  document.body.dataset.situation = "chain";
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
  const idType = $("id-type").value;
  const nationality = idType === "passport" ? $("nationality").value.trim().toUpperCase() : null;
  if (!name) problems.push(S.need_name);
  // the GB 11643 check character only for a resident ID card; the server judges the other documents
  const idp = idType === "resident" ? idProblem(idn) : idn ? "" : idProblem("");
  if (idp) problems.push(idp);
  if (idType === "passport" && !/^[A-Z]{3}$/.test(nationality)) problems.push(S.need_nationality);
  const { values, missing } = readFields($("fields"));
  problems.push(...missing);
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
    const applicant = { name, id_number: idn, phone, id_type: idType, nationality };
    const data = state.chain ? { submission_id: newId(), chain: state.chain.code, applicant, form }
      : { submission_id: newId(), item: state.item.code, item_version: state.item.version, situation: state.situation,
        applicant, form };
    const body = new FormData();
    body.append("data", JSON.stringify(data));
    for (const [material, f] of mats.files) body.append(`file.${material}`, f, f.name);
    const where = state.chain ? "chains" : "cases";
    const r = await api(`/api/v1/halls/${state.hall.code}/${where}`, { method: "POST", body, headers: { "X-Phone-Proof": proof } });
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
  $("id-type").replaceChildren(...idTypeOptions());
  $("id-type").addEventListener("change", () => {
    $("nationality-box").hidden = $("id-type").value !== "passport";
  });
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
  const [r, rc] = await Promise.all([api("/api/v1/items"), api("/api/v1/chains")]);
  const items = r.ok ? await r.json() : [];
  const names = Object.fromEntries(items.map((it) => [it.code, it.name]));
  const chained = rc.ok ? (await rc.json()).map((c) => chainEntry(c, names)) : [];
  state.items = [...chained, ...items]; // 一件事一次办 first, beside the single items
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

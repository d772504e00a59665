// 在窗口新建: a case started at the counter. The clerk picks the item and its situation, types the
// applicant (or takes the ID from the called ticket, an audited look), scans or picks the files of each
// material, and submits one multipart request; the submission UUID is kept, so a resend is the same case.

import { bi, el } from "./dom.js";
import { postForm, uuid } from "./cases-api.js";
import { say, showDialog } from "./cases-view.js";
import { itemPicker } from "./cases-picker.js";

function input(id, label, attrs = {}) {
  const i = el("input", null);
  i.id = id;
  Object.assign(i, attrs);
  return el("label", "ff", el("span", "ff-label", bi(label)), i);
}

function option(value, text) {
  const o = el("option", null, text);
  o.value = value;
  return o;
}

/** Open the start-a-case form; `done(number)` opens the new case. */
export async function startCase(ctx, done) {
  let items;
  try {
    items = await ctx.get("/api/v1/items");
  } catch (err) {
    ctx.notify(err.message);
    return;
  }
  const submissionId = uuid();
  const cur = ctx.desk && ctx.desk.current;
  const queue = cur && ((ctx.desk.targets && ctx.desk.targets.queues) || []).find((q) => q.code === cur.queue);
  const picker = itemPicker(items, queue ? queue.name : null, () => itemChanged());
  const itemSel = picker.select;
  const sitSel = el("select", null);
  sitSel.id = "new-situation";
  sitSel.disabled = true;
  const mats = el("div", "new-materials");
  let detail = null;

  const name = input("new-name", ["申请人姓名", "Applicant's name"], { maxLength: 64, autocomplete: "off" });
  const idn = input("new-id", ["身份证号码", "ID number"], { maxLength: 18, autocomplete: "off", spellcheck: false });
  const phone = input("new-phone", ["手机（可不填）", "Mobile (optional)"], { maxLength: 11, autocomplete: "off", inputMode: "tel" });
  const who = el("div", "new-person", name, idn, phone);
  if (cur && cur.id_number_masked) {
    const take = el("button", "take-id", bi(["使用取号证件", "Use the ticket's ID"]), el("span", "muted", ` ${cur.id_number_masked}`));
    take.type = "button";
    take.onclick = async () => {
      try {
        const r = await ctx.post(`/api/v1/console/tickets/${cur.id}/reveal`);
        if (r.id_number) idn.querySelector("input").value = r.id_number;
        if (r.name) name.querySelector("input").value = r.name;
        if (r.phone) phone.querySelector("input").value = r.phone;
        say("已读取取号证件（已记录） · Filled from the ticket (recorded)", "ok");
      } catch (err) {
        say(err.message);
      }
    };
    who.append(el("div", "ff take-box", take, el("small", "muted", "读取将被记录 · Reading is recorded")));
  }

  const showMaterials = () => {
    const sit = detail && detail.situations.find((s) => s.code === sitSel.value);
    mats.replaceChildren(...(sit ? sit.materials : []).map((m) => {
      const f = el("input", "mat-file");
      f.type = "file";
      f.multiple = true;
      f.accept = "image/jpeg,image/png,application/pdf";
      f.dataset.material = m.code;
      const row = el("div", "new-mat",
        el("div", null, el("b", null, m.name), el("span", "en", m.name_en),
          el("div", "muted", `${m.required ? "必交 Required" : "选交 Optional"} · ${m.form}${m.copies > 1 ? ` ×${m.copies}` : ""}`
            + `${m.shortfall_allowed ? " · 可容缺" : ""}${m.commitment_allowed ? " · 可承诺" : ""}`),
          m.notes ? el("div", "mat-note", m.notes) : null),
        f);
      row.dataset.material = m.code;
      return row;
    }));
  };
  const itemChanged = async () => {
    detail = null;
    sitSel.replaceChildren();
    sitSel.disabled = true;
    showMaterials();
    if (!itemSel.value) return;
    try {
      detail = await ctx.get(`/api/v1/items/${encodeURIComponent(itemSel.value)}`);
    } catch (err) {
      say(err.message);
      return;
    }
    sitSel.append(...detail.situations.map((s) => option(s.code, `${s.name} · ${s.name_en}`)));
    sitSel.disabled = false;
    showMaterials();
  };
  sitSel.onchange = showMaterials;

  const itemLabel = el("label", "ff-label", bi(["事项", "Item"]));
  itemLabel.htmlFor = picker.search.id;
  const go = el("button", "primary", bi(["提交申请", "Submit"]));
  go.type = "submit";
  const form = el("form", "new-case",
    el("div", "new-grid",
      el("div", "ff", itemLabel, picker.box),
      el("label", "ff", el("span", "ff-label", bi(["办事情形", "Situation"])), sitSel)),
    who,
    el("h4", null, bi(["申请材料", "Materials"]), el("small", "muted", " JPEG / PNG / PDF")),
    mats,
    el("div", "form-actions", go));
  form.id = "new-case-form";
  form.noValidate = true;
  form.onsubmit = async (e) => {
    e.preventDefault();
    const v = (id) => form.querySelector(`#${id}`).value.trim();
    if (!itemSel.value || !sitSel.value) return say("请选择事项和情形 · Choose the item and the situation");
    if (!v("new-name") || !v("new-id")) return say("请填写申请人姓名和身份证号码 · Enter the name and the ID number");
    const data = {
      submission_id: submissionId,
      item: itemSel.value,
      situation: sitSel.value,
      applicant: { name: v("new-name"), id_number: v("new-id").toUpperCase(), phone: v("new-phone") || null },
      form: {},
      ticket_id: cur ? cur.id : null,
    };
    const body = new FormData();
    body.append("data", JSON.stringify(data));
    for (const f of mats.querySelectorAll("input.mat-file")) {
      for (const file of f.files) body.append(`file.${f.dataset.material}`, file, file.name);
    }
    go.disabled = true;
    try {
      const r = await postForm(`/api/v1/halls/${encodeURIComponent(ctx.hall)}/cases`, body);
      ctx.notify(`已建办件 ${r.number} · Case ${r.number} created`, "ok");
      await done(r.number);
    } catch (err) {
      say(err.message);
      go.disabled = false;
    }
  };
  showDialog([bi(["在窗口新建办件", "Start a case at the counter"])],
    el("p", "hint", cur ? `当前号 ${cur.number}：办件将关联此号 · The case is linked to ticket ${cur.number}` : "当前无叫号 · No ticket at the window"),
    form);
  if (itemSel.value) itemChanged();
  picker.search.focus();
}

// 网上申报: the parts of the application form, as functions over plain lists (items, situations, fields,
// materials), so that a chain of several items (一链办理: one form, each material once) is shown by the same
// functions as one item.
// Every value goes in with textContent (never innerHTML). The server checks everything again: these checks
// only answer sooner (queue_server/ids.py validates the ID number, queue_server/cases/filecheck.py the files).

export const TYPES = ["image/jpeg", "image/png", "application/pdf"];
const EXT = /\.(jpe?g|png|pdf)$/i;

/** An element with a class and children (strings become text). */
export function el(tag, cls, ...kids) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const k of kids) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

/** Chinese, with the English smaller beside it. */
export function bi(zh, en) {
  return el("span", "bi", zh, en ? el("small", "en", en) : null);
}

/** The items matching a search (name, English name, code, pinyin initials, keywords), grouped by domain; a
 * click on one calls `pick(code)`. An entry may stand for several items (a chain) as long as it has a code. */
export function itemList(items, q, pick) {
  const needle = q.trim().toLowerCase();
  const hit = (it) => !needle || [it.code, it.name, it.name_en, it.initials, ...(it.keywords || [])]
    .some((w) => w && String(w).toLowerCase().includes(needle));
  const groups = new Map();
  for (const it of items.filter(hit)) {
    const key = `${it.domain}\u0000${it.domain_en || ""}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(it);
  }
  const out = [];
  for (const [key, list] of groups) {
    const [zh, en] = key.split("\u0000");
    out.push(el("h3", "domain", bi(zh, en)));
    for (const it of list) {
      const b = el("button", `item${it.chain ? " chain" : ""}`, el("strong", null, it.name), el("small", "en", it.name_en),
        el("span", "meta", it.meta || limitText(it.time_limit_days)));
      b.type = "button";
      b.dataset.code = it.code;
      if (it.chain) b.dataset.chain = "1";
      b.setAttribute("role", "listitem");
      b.addEventListener("click", () => pick(it.code));
      out.push(b);
    }
  }
  return out;
}

export function limitText(days) {
  return days === 0 ? "即办 · Same day" : `承诺 ${days} 个工作日 · ${days} working days`;
}

/** A chain (一件事) as an entry of the list: its member items' names are searched too. */
export function chainEntry(c, names) {
  const members = c.items.map((code) => names[code] || code);
  return { ...c, chain: true, domain: "一件事一次办", domain_en: "One thing, one application",
    keywords: [...(c.keywords || []), ...members],
    meta: `${members.length} 项一次办：${members.join("、")} · ${members.length} services at once` };
}

/** A chain's shared fields as the item form's fields (text, number, or a choice). */
export function chainFields(fields) {
  return fields.map((f) => ({ code: f.code, label: f.label, label_en: f.label_en, required: f.required,
    one_of: f.kind === "choice" ? f.choices : null, number: f.kind === "number", sample: f.sample }));
}

/** The situations (办事情形) as radio cards; `choose(code)` on a change. */
export function situationPicker(situations, chosen, choose) {
  return situations.map((s) => {
    const r = el("input");
    r.type = "radio";
    r.name = "situation";
    r.value = s.code;
    r.checked = s.code === chosen;
    r.addEventListener("change", () => choose(s.code));
    return el("label", "situation", r, bi(s.name, s.name_en));
  });
}

/** The form fields (those the item's rules check): a select for a list of choices, a text box otherwise. */
export function fieldInputs(fields, values = {}) {
  return fields.map((f) => {
    let input;
    if (f.one_of) {
      input = el("select");
      input.append(el("option", null, "请选择 / Choose"));
      input.firstChild.value = "";
      for (const v of f.one_of) {
        const o = el("option", null, v);
        o.value = v;
        input.append(o);
      }
    } else {
      input = el("input");
      input.maxLength = f.max_length || 200;
      if (f.number) input.inputMode = "decimal";
      if (f.sample) input.placeholder = `例 e.g. ${f.sample}`;
    }
    input.name = `field.${f.code}`;
    input.dataset.field = f.code;
    input.required = !!f.required;
    input.value = values[f.code] ?? "";
    return el("label", "field", bi(f.label, f.label_en), input);
  });
}

/** The Chinese and English names a bilingual label (`bi`) shows. */
function names(box) {
  const b = box.querySelector(".bi");
  return [b.firstChild.textContent, b.querySelector(".en")?.textContent || b.firstChild.textContent];
}

/** The fields' answers in a container: {code: value}; the required ones left empty, each as a bilingual line. */
export function readFields(box) {
  const values = {};
  const missing = [];
  for (const i of box.querySelectorAll("[data-field]")) {
    values[i.dataset.field] = i.value.trim();
    if (i.required && !i.value.trim()) {
      const [zh, en] = names(i.closest("label"));
      missing.push(`请填写“${zh}” / Fill in '${en}'`);
    }
  }
  return { values, missing };
}

function tag(cls, zh, en) {
  return el("span", `tag ${cls}`, zh, el("small", "en", en));
}

/** The material list as the zero-basis template shows it, each with its file input, and for a 容缺 or 告知承诺
 * material the choice to bring it later or sign the commitment at the window instead of uploading it now. */
export function materialRows(materials) {
  return materials.map((m, i) => {
    const file = el("input");
    file.type = "file";
    file.multiple = true;
    file.accept = TYPES.join(",");
    file.name = `file.${m.code}`;
    file.dataset.material = m.code;
    const head = el("div", "m-head", el("span", "m-no", `${i + 1}`), bi(m.name, m.name_en),
      m.required ? tag("req", "必交", "Required") : tag("opt", "选交", "Optional"),
      m.shortfall_allowed ? tag("later", "可容缺", "May follow") : null,
      m.commitment_allowed ? tag("commit", "可告知承诺", "Commitment") : null);
    const form = `${m.form}${m.copies > 1 ? ` ${m.copies} 份` : ""}`;
    const li = el("li", "material", head, el("div", "m-form", `材料形式 Form: ${form}`),
      m.used_by_names ? el("div", "m-uses", el("b", null, "一次上传，用于 Used by: "), m.used_by_names.join("、")) : null,
      m.sample ? el("div", "m-sample", el("b", null, "样表 Sample: "), m.sample) : null,
      m.notes ? el("div", "m-notes", el("b", null, "填写说明 Notes: "), m.notes) : null,
      el("label", "m-file", bi("上传扫描件或照片", "Upload scans or photos"), file),
      el("ul", "m-chosen"));
    li.dataset.material = m.code;
    file.addEventListener("change", () => {
      li.querySelector(".m-chosen").replaceChildren(...[...file.files].map((f) => el("li", null,
        `${f.name} · ${Math.max(1, Math.round(f.size / 1024))} KB`)));
      li.classList.toggle("has-file", file.files.length > 0);
    });
    for (const [flag, key, zh, en] of [["shortfall_allowed", "later", "暂缺，受理后补交（容缺）", "Bring it after acceptance"],
      ["commitment_allowed", "commit", "以告知承诺书代替，到窗口签字", "Sign a commitment instead"]]) {
      if (!m[flag]) continue;
      const c = el("input");
      c.type = "checkbox";
      c.dataset[key] = m.code;
      li.append(el("label", "m-choice", c, bi(zh, en)));
    }
    return li;
  });
}

/** What is wrong with the chosen files and choices of the material list (bilingual lines; none: []), and
 * the files to send as [material, File]. */
export function readMaterials(box, maxKb) {
  const problems = [];
  const files = [];
  const later = [];
  const commit = [];
  let total = 0;
  for (const li of box.querySelectorAll("li.material")) {
    const code = li.dataset.material;
    const [name, nameEn] = names(li);
    const chosen = [...li.querySelector("input[type=file]").files];
    const isLater = li.querySelector(`[data-later]`)?.checked;
    const isCommit = li.querySelector(`[data-commit]`)?.checked;
    if (isLater) later.push(code);
    if (isCommit) commit.push(code);
    for (const f of chosen) {
      const p = fileProblem(f, maxKb);
      if (p) problems.push(`${name}：${p}`);
      total += f.size;
      files.push([code, f]);
    }
    if (li.querySelector(".tag.req") && !chosen.length && !isLater && !isCommit) {
      problems.push(`请上传“${name}” / Upload '${nameEn}'`);
    }
  }
  if (total > 32 * 1024 * 1024) problems.push("文件合计超过 32 MB，请压缩后再传 / The files exceed 32 MB together");
  return { problems, files, later, commit };
}

/** Why a file cannot be sent (JPEG, PNG or PDF up to the hall's limit), or "". */
export function fileProblem(f, maxKb) {
  if (!TYPES.includes(f.type) && !EXT.test(f.name)) {
    return `${f.name} 不是 JPG、PNG 或 PDF 文件 / is not a JPG, PNG or PDF file`;
  }
  if (f.size > maxKb * 1024) {
    return `${f.name} 超过 ${Math.round(maxKb / 1024)} MB / is over ${Math.round(maxKb / 1024)} MB`;
  }
  return "";
}

// The identity documents the server takes (queue_server/identity.py IdType), Chinese first.
export const ID_TYPES = [
  ["resident", "居民身份证", "Resident ID card"],
  ["foreign_permanent", "外国人永久居留身份证", "Foreign permanent residence ID card"],
  ["hk_mo_tw_permit", "港澳台居民居住证", "Residence permit (Hong Kong, Macao, Taiwan)"],
  ["passport", "护照", "Passport"],
];

/** The options of the document type select. */
export function idTypeOptions() {
  return ID_TYPES.map(([code, zh, en]) => {
    const o = el("option", null, `${zh} / ${en}`);
    o.value = code;
    return o;
  });
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** An early word on an 18-character resident ID number (GB 11643 check character); "" when it looks right or
 * is another kind of document the server judges (queue_server/ids.py validate_identity_number). */
export function idProblem(value) {
  const v = value.replace(/\s/g, "").toUpperCase();
  if (!v) return "请填写证件号码 / Enter the ID number";
  if (!/^\d{17}[\dX]$/.test(v)) return v.length === 18 ? "身份证号码格式不正确 / The ID number is malformed" : "";
  const sum = WEIGHTS.reduce((s, w, i) => s + w * Number(v[i]), 0);
  return "10X98765432"[sum % 11] === v[17] ? "" : "身份证号码校验位不正确，请核对 / The ID number's check digit is wrong";
}

/** A phone box: the number, the 获取验证码 button (counting down), the code. `ask(phone)` sends the code and
 * answers true when it was sent. */
export function phoneBox(ask) {
  const phone = el("input");
  phone.type = "tel";
  phone.inputMode = "numeric";
  phone.maxLength = 11;
  phone.autocomplete = "tel";
  phone.dataset.role = "phone";
  const send = el("button", "send", "获取验证码 / Send code");
  send.type = "button";
  const code = el("input");
  code.inputMode = "numeric";
  code.maxLength = 6;
  code.autocomplete = "one-time-code";
  code.dataset.role = "code";
  let timer = null;
  send.addEventListener("click", async () => {
    if (!(await ask(phone.value.trim()))) return;
    let left = 60;
    send.disabled = true;
    timer = setInterval(() => {
      left -= 1;
      send.textContent = left > 0 ? `${left} 秒后重发 / Resend in ${left}s` : "获取验证码 / Send code";
      if (left <= 0) {
        clearInterval(timer);
        send.disabled = false;
      }
    }, 1000);
    code.focus();
  });
  return [
    el("label", null, bi("手机号码", "Mobile phone"), el("span", "row", phone, send)),
    el("label", null, bi("短信验证码", "Code from the text message"), code),
  ];
}

// 电子证照核验 page (the QR code on a certificate opens /verify/<code>): asks GET /api/v1/verify/<code> and shows
// valid, revoked, expired or unknown, with what was issued, to whom (masked) and when.
// Every value is rendered with textContent (never innerHTML).

const S = {
  title: "电子证照核验", title_en: "Electronic certificate verification",
  checking: "正在核验… / Checking…",
  valid: "有效 / Valid",
  revoked: "已吊销 / Revoked",
  expired: "已过有效期 / Expired",
  unknown: "未找到此证照 / Unknown certificate",
  validText: "此电子证照由发证机关签发，目前有效。请核对下列信息与您看到的证照一致。 / "
    + "Issued by the organ below and valid now. Check that the details match the certificate you were shown.",
  revokedText: "此电子证照已被发证机关吊销，不再有效。 / The issuing organ revoked this certificate: it is no longer valid.",
  expiredText: "此电子证照已超过有效期。 / This certificate is past its validity.",
  unknownText: "没有与此二维码对应的电子证照，证照可能是伪造的。 / No certificate matches this code: it may be forged.",
  busy: "核验过于频繁，请稍后再试 / Too many checks; try again later",
  failed: "核验失败，请稍后再试 / The check failed; try again later",
  no: "证照编号 / Number", holder: "持证人 / Holder", organ: "发证机关 / Issued by",
  issued: "发证日期 / Issued on", validUntil: "有效期至 / Valid until", revokedOn: "吊销日期 / Revoked on",
  reason: "吊销原因 / Reason", digest: "文件指纹 (SHA-256) / File fingerprint",
  longTerm: "长期 / Long-term",
  note: "证照文件带有发证机关的电子签名，可用 PDF 阅读器查看签名；文件指纹应与上方一致。 / "
    + "The certificate file carries the organ's electronic signature (visible in a PDF reader); "
    + "its fingerprint should match the one above.",
};

const $ = (id) => document.getElementById(id);

function strings() {
  for (const el of document.querySelectorAll("[data-s]")) el.textContent = S[el.dataset.s];
}

function verdict(status, text) {
  document.body.dataset.status = status;
  $("badge").textContent = S[status] || S.failed;
  $("explain").textContent = text;
}

function show(c) {
  verdict(c.status, S[`${c.status}Text`]);
  $("name").textContent = `${c.name} / ${c.name_en}`;
  $("no").textContent = c.certificate_no;
  $("holder").textContent = c.holder;
  $("organ").textContent = c.organ_en ? `${c.organ} / ${c.organ_en}` : c.organ;
  $("issued").textContent = c.issued_on;
  $("valid").textContent = c.valid_until || S.longTerm;
  $("revoked").textContent = c.revoked_on || "";
  $("reason").textContent = c.revoke_reason || "";
  $("digest").textContent = c.sha256 || "—";
  $("detail").hidden = false;
}

async function main() {
  strings();
  const code = decodeURIComponent(location.pathname.split("/").pop() || "");
  let r;
  try {
    r = await fetch(`/api/v1/verify/${encodeURIComponent(code)}`, { cache: "no-store" });
  } catch {
    r = null;
  }
  if (r && r.ok) show(await r.json());
  else if (r && (r.status === 404 || r.status === 422)) verdict("unknown", S.unknownText);
  else verdict("failed", r && r.status === 429 ? S.busy : S.failed);
}

main();

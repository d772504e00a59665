// Case API helpers of the clerk console beyond JSON: multipart uploads, and PDFs or scans fetched with the
// bearer token (a new tab cannot send it) and shown from a blob: address.

import { ApiError, detailText, token } from "./api.js";

const blobs = new Map(); // API path -> blob: URL

function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function failure(r) {
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (r.status === 401) dispatchEvent(new CustomEvent("auth-lost"));
  return new ApiError(r.status, detailText(data && data.detail, r.status));
}

/** POST a multipart form (files and a JSON part); the JSON answer, with `created` for a 201. */
export async function postForm(path, form) {
  let r;
  try {
    r = await fetch(path, { method: "POST", headers: { Accept: "application/json", ...authHeaders() }, body: form, credentials: "omit" });
  } catch {
    throw new ApiError(0, "无法连接服务器 / Cannot reach the server");
  }
  if (!r.ok) throw await failure(r);
  const data = await r.json();
  data.created = r.status === 201;
  return data;
}

/** A file of the API (PDF, scan) as a blob: address that lives until `forgetFiles` (fetched once). */
export async function fileUrl(path) {
  if (blobs.has(path)) return blobs.get(path);
  let r;
  try {
    r = await fetch(path, { headers: authHeaders(), credentials: "omit" });
  } catch {
    throw new ApiError(0, "无法连接服务器 / Cannot reach the server");
  }
  if (!r.ok) throw await failure(r);
  const url = URL.createObjectURL(await r.blob());
  blobs.set(path, url);
  return url;
}

/** Open a fetched file in a new tab (the browser's viewer prints it); false when the tab was blocked. */
export function openTab(url) {
  const w = window.open(url, "_blank");
  return w !== null;
}

/** Save a fetched file under `filename` (a download, e.g. to print later). */
export function saveAs(url, filename) {
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

/** Let go of every fetched file (when the case window closes). */
export function forgetFiles() {
  for (const u of blobs.values()) URL.revokeObjectURL(u);
  blobs.clear();
}

/** A random UUID (crypto.randomUUID needs https; getRandomValues works on a plain-http hall network). */
export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// HTTP client of the staff pages. The bearer token lives in sessionStorage (gone when the tab closes)
// and goes in the Authorization header: no cookie, so no cross-site request can act as the clerk.

const TOKEN_KEY = "hall.staff.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The server's `detail` as one sentence (validation errors are a list). */
export function detailText(detail, status) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(-1)[0] || ""}: ${d.msg || ""}`).join("; ");
  return `请求失败 / Request failed (${status})`;
}

/** Call the API; JSON in and out. 401 forgets the token and tells the page to show the login form. */
export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
  } catch {
    throw new ApiError(0, "无法连接服务器 / Cannot reach the server");
  }
  if (r.status === 204) return null;
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (r.status === 401) {
    forget();
    dispatchEvent(new CustomEvent("auth-lost"));
  }
  if (!r.ok) throw new ApiError(r.status, detailText(data && data.detail, r.status));
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

/** Exchange username and password for a token, kept for this tab only. */
export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const r = await fetch("/api/v1/auth/token", { method: "POST", body: form, credentials: "omit" });
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (!r.ok) throw new ApiError(r.status, detailText(data && data.detail, r.status));
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  return data;
}

export const hallPath = (hall) => `/api/v1/halls/${encodeURIComponent(hall)}`;

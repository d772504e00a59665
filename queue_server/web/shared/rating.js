// The online rating of one finished service (一次一评 by the ticket's track token): five levels and optional
// reasons from the feedback catalogue (GET /api/v1/feedback/catalogue), a comment, posted once. Used by the
// public feedback page (?t=<token>) and the tracking page; the server keeps one rating per ticket.

export const RATED = "感谢您的评价！/ Thank you for your rating!";
export const FAILED = "提交失败：/ Failed: ";

/** A span with this text (and class). */
export function span(text, cls) {
  const s = document.createElement("span");
  s.textContent = text;
  if (cls) s.className = cls;
  return s;
}

/** The sentence of an error answer (FastAPI's detail: a string, or a list of validation errors). */
export function detail(body, status) {
  const d = body && body.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((x) => x.msg).join("; ");
  return `HTTP ${status}`;
}

/** POST JSON; the answer's JSON, or an Error with the server's sentence. */
export async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new Error(detail(data, r.status));
  return data;
}

/**
 * Render the rating form into `els` ({levels, reasons, comment, submit, result}) and post it with the ticket's
 * track token on submit; `onRated()` after the server took it.
 */
export function mountRating(els, catalogue, hall, token, onRated) {
  let level = null;
  const chosen = new Set();
  const button = (zh, en, pressed, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("aria-pressed", String(pressed));
    b.append(span(zh), span(en, "en"));
    b.addEventListener("click", onClick);
    return b;
  };
  const render = () => {
    els.levels.replaceChildren(
      ...catalogue.levels.map((l) => {
        const b = button(l.zh, l.en, level === l.code, () => {
          level = l.code;
          els.submit.disabled = false;
          render();
        });
        b.dataset.level = l.code;
        return b;
      }),
    );
    els.reasons.replaceChildren(
      ...catalogue.reasons.map((r) => {
        const b = button(r.zh, r.en, chosen.has(r.code), () => {
          chosen.has(r.code) ? chosen.delete(r.code) : chosen.add(r.code);
          render();
        });
        b.dataset.reason = r.code;
        return b;
      }),
    );
  };
  const say = (text, error) => {
    els.result.textContent = text;
    els.result.className = error ? "result error" : "result";
  };
  els.submit.disabled = true;
  els.submit.addEventListener("click", async () => {
    try {
      await post(`/api/v1/halls/${encodeURIComponent(hall)}/evaluations`, {
        track_token: token,
        level,
        reasons: [...chosen],
        comment: els.comment.value,
      });
      say(RATED);
      els.submit.disabled = true;
      if (onRated) onRated();
    } catch (e) {
      say(FAILED + e.message, true);
    }
  });
  render();
}

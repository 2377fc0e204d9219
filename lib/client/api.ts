/**
 * Calling the site's JSON API from islands (runs in the browser). Every failure comes back as
 * words a person can act on: the server's own message, or a plain one for a lost connection.
 */
export type ApiResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; error: string; message: string };

export async function postJson<T>(path: string, body?: unknown): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body ?? {}),
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: "network",
      message: "We couldn't reach read.markets. Check your connection and try again.",
    };
  }
  const payload = await response.json().catch(() => null);
  if (response.ok && payload) return { ok: true, data: payload as T };
  return {
    ok: false,
    status: response.status,
    error: payload?.error ?? "error",
    message: payload?.message ??
      `Something went wrong (error ${response.status}). Please try again.`,
  };
}

/** Go to sign in, then come back to `path`. */
export function signInAndReturn(path: string): void {
  location.assign(`/login?next=${encodeURIComponent(path)}`);
}

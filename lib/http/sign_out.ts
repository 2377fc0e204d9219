import type { State } from "../state.ts";
import { endSession } from "../auth/sessions.ts";
import { clearedSessionCookie } from "./cookies.ts";

/** End the request's session (if any); returns the headers that clear the cookie. */
export async function signOut(state: Pick<State, "db" | "config" | "sessionToken">) {
  if (state.sessionToken) await endSession(state.db, state.sessionToken);
  return new Headers({ "set-cookie": clearedSessionCookie(state.config) });
}

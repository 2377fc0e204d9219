import type { State } from "../define.ts";
import { clearedSessionCookie, endSession } from "./sessions.ts";

/** End the request's session (if any); returns the headers that clear the cookie. */
export async function signOut(state: Pick<State, "db" | "config" | "sessionToken">) {
  if (state.sessionToken) await endSession(state.db, state.sessionToken);
  return new Headers({ "set-cookie": clearedSessionCookie(state.config) });
}

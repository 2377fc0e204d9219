/**
 * The sign-in nonce at the web edge: the browser that asks for a sign-in link keeps a random
 * nonce in a cookie (the one it already has, so several links asked for from one browser all
 * match), and the link remembers its hash.
 */
import type { State } from "../state.ts";
import { randomToken } from "../crypto.ts";
import { signInBrowserCookie } from "./cookies.ts";

export function signInBrowser(state: Pick<State, "config" | "signInNonce">): {
  nonce: string;
  setCookie: string;
} {
  const nonce = state.signInNonce ?? randomToken();
  return { nonce, setCookie: signInBrowserCookie(state.config, nonce) };
}

import { define } from "../lib/state.ts";
import { identify } from "../lib/http/identify.ts";
import { rememberReferral } from "../lib/http/referral_link.ts";

/** Every request: who is asking, and `?ref=CODE` on any page remembers an invitation. */
export const handler = define.middleware(async (ctx) => {
  await identify(ctx);
  const ref = ctx.url.searchParams.get("ref");
  if (ref !== null && ctx.req.method === "GET" && !ctx.url.pathname.startsWith("/api/")) {
    const clean = new URL(ctx.url);
    clean.searchParams.delete("ref");
    // The path is the visitor's own: `//evil.example/?ref=…` must not become a Location of
    // `//evil.example/`, so it goes through ctx.redirect like every other redirect.
    const onward = ctx.redirect(`${clean.pathname}${clean.search}`, 303);
    return await rememberReferral(ctx.state, ref, onward);
  }
  return await ctx.next();
});

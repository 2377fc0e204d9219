import { define } from "../lib/state.ts";
import { page } from "../lib/web/mod.ts";
import { askForSignInLink, safeNextPath } from "../lib/auth/sign_in.ts";
import { signInBrowser } from "../lib/http/sign_in_browser.ts";
import { SignInForm } from "../components/SignInForm.tsx";

type View =
  | { view: "form"; next: string; email?: string; error?: string }
  | { view: "sent"; email: string }
  | { view: "rate_limited"; next: string; minutes: number };

export const handler = define.handlers({
  GET(ctx) {
    if (ctx.state.user) {
      return ctx.redirect(safeNextPath(ctx.url.searchParams.get("next"), ctx.state.config.siteUrl));
    }
    return page<View>({
      view: "form",
      next: safeNextPath(ctx.url.searchParams.get("next"), ctx.state.config.siteUrl),
    });
  },
  async POST(ctx) {
    const form = await ctx.req.formData().catch(() => new FormData());
    const email = String(form.get("email") ?? "");
    const next = safeNextPath(form.get("next"), ctx.state.config.siteUrl);
    const browser = signInBrowser(ctx.state);
    const result = await askForSignInLink(ctx.state, {
      email,
      next,
      ip: ctx.state.clientIp,
      referralCode: ctx.state.pendingReferral,
      browserNonce: browser.nonce,
    });
    switch (result.outcome) {
      case "sent":
        return page<View>(
          { view: "sent", email: email.trim().toLowerCase() },
          { headers: { "set-cookie": browser.setCookie } },
        );
      case "invalid":
        return page<View>({ view: "form", next, email, error: result.message }, { status: 400 });
      case "rate_limited":
        return page<View>(
          { view: "rate_limited", next, minutes: Math.ceil(result.retryAfterSeconds / 60) },
          { status: 429, headers: { "retry-after": String(result.retryAfterSeconds) } },
        );
      case "unavailable":
        return page<View>(
          {
            view: "form",
            next,
            email,
            error: "We could not send the email just now. Please try again.",
          },
          { status: 503 },
        );
    }
  },
});

export default define.page<typeof handler>(function Login({ data }) {
  if (data.view === "sent") {
    return (
      <section class="narrow">
        <h1>Check your email</h1>
        <p>
          If <strong>{data.email}</strong>{" "}
          can receive email, a sign-in link is on its way. It works once and expires in 15 minutes.
        </p>
        <p class="muted">
          Nothing arrived? Check your spam folder, or <a href="/login">try again</a>.
        </p>
      </section>
    );
  }
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      {data.view === "rate_limited" && (
        <p class="notice notice-warn" role="alert">
          Too many sign-in requests. Please wait about {data.minutes}{" "}
          minute{data.minutes === 1 ? "" : "s"} and try again.
        </p>
      )}
      <SignInForm
        next={data.next}
        email={data.view === "form" ? data.email : undefined}
        error={data.view === "form" ? data.error : undefined}
      />
    </section>
  );
});

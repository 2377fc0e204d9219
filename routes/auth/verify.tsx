import { define } from "../../lib/state.ts";
import { page } from "../../lib/web/mod.ts";
import { completeSignIn, type LinkProblem, previewSignIn } from "../../lib/auth/sign_in.ts";
import { endSession } from "../../lib/auth/sessions.ts";
import {
  clearedReferralCookie,
  clearedSignInBrowserCookie,
  sessionCookie,
} from "../../lib/http/cookies.ts";
import { brand } from "../../lib/brand.ts";
import { SignInForm } from "../../components/SignInForm.tsx";
import ContinueSignIn from "../../islands/ContinueSignIn.tsx";

const PROBLEMS = {
  unknown: {
    status: 400,
    title: "This sign-in link is not valid",
    detail: "It may have been copied incompletely.",
  },
  used: {
    status: 410,
    title: "This sign-in link has already been used",
    detail: "Each link works once.",
  },
  expired: {
    status: 410,
    title: "This sign-in link has expired",
    detail: "Links work for 15 minutes.",
  },
} as const;

type View =
  | { view: "problem"; problem: LinkProblem }
  | {
    view: "continue";
    token: string;
    email: string;
    newAccount: boolean;
    sameBrowser: boolean;
    invited: boolean;
    /** Who this browser is signed in as now, when that is someone else. */
    switchingFrom: string | null;
  };

// A sign-in page is personal and carries a credential: never stored by a cache or the browser.
const PRIVATE = { "cache-control": "no-store" };

function problemPage(problem: LinkProblem) {
  return page<View>({ view: "problem", problem }, {
    status: PROBLEMS[problem].status,
    headers: PRIVATE,
  });
}

export const handler = define.handlers({
  /** Opening the link spends nothing (mail scanners open links too): it shows what it will do. */
  async GET(ctx) {
    const token = ctx.url.searchParams.get("token") ?? "";
    const preview = await previewSignIn(ctx.state, token, ctx.state.signInNonce);
    if (preview.outcome !== "ready") return problemPage(preview.outcome);
    const current = ctx.state.user?.email ?? null;
    return page<View>({
      view: "continue",
      token,
      email: preview.email,
      newAccount: preview.newAccount,
      sameBrowser: preview.sameBrowser,
      invited: preview.invited,
      switchingFrom: current !== null && current !== preview.email ? current : null,
    }, { headers: PRIVATE });
  },
  /** The page's button: the only thing that spends a link (same-origin only, like every POST). */
  async POST(ctx) {
    const form = await ctx.req.formData().catch(() => new FormData());
    const result = await completeSignIn(ctx.state, String(form.get("token") ?? ""), {
      acceptInvitation: form.get("accept_invitation") === "yes",
    });
    if (result.outcome !== "signed_in") return problemPage(result.outcome);
    // The session this browser had (someone else's, or an older one of theirs) ends here.
    if (ctx.state.sessionToken) await endSession(ctx.state.db, ctx.state.sessionToken);
    const response = ctx.redirect(result.next, 303);
    response.headers.append("set-cookie", sessionCookie(ctx.state.config, result.sessionToken));
    response.headers.append("set-cookie", clearedReferralCookie(ctx.state.config));
    response.headers.append("set-cookie", clearedSignInBrowserCookie(ctx.state.config));
    ctx.state.log.info("auth.signed_in", { user_id: result.user.id, new_account: result.created });
    return response;
  },
});

export default define.page<typeof handler>(function Verify({ data }) {
  if (data.view === "problem") {
    const problem = PROBLEMS[data.problem];
    return (
      <section class="narrow">
        <h1>{problem.title}</h1>
        <p>{problem.detail} Enter your email and we'll send you a new one.</p>
        <SignInForm next="/" />
      </section>
    );
  }
  return (
    <section class="narrow">
      <h1>Continue signing in</h1>
      <p>
        {data.newAccount
          ? <>This creates your {brand.name} account for{" "}</>
          : <>You are signing in to {brand.name} as{" "}</>}
        <strong>{data.email}</strong>.
      </p>
      {data.switchingFrom && (
        <p class="notice notice-warn">
          This browser is signed in as{" "}
          <strong>{data.switchingFrom}</strong>. Continuing signs it out and into{" "}
          <strong>{data.email}</strong> instead.
        </p>
      )}
      {!data.sameBrowser && (
        <p class="hint">
          This link was opened somewhere other than the browser that asked for it. Continue only if
          you asked for a sign-in link for this address.
        </p>
      )}
      <ContinueSignIn
        token={data.token}
        invited={data.invited}
        acceptInvitation={data.sameBrowser}
        auto={data.sameBrowser && !data.switchingFrom}
      />
    </section>
  );
});

import { define } from "../../lib/state.ts";
import { page } from "../../lib/web/mod.ts";
import { completeSignIn } from "../../lib/auth/sign_in.ts";
import { clearedReferralCookie, sessionCookie } from "../../lib/http/cookies.ts";
import { SignInForm } from "../../components/SignInForm.tsx";

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

export const handler = define.handlers({
  async GET(ctx) {
    const token = ctx.url.searchParams.get("token") ?? "";
    const result = await completeSignIn(ctx.state, token, ctx.state.pendingReferral);
    if (result.outcome !== "signed_in") {
      return page({ problem: result.outcome }, { status: PROBLEMS[result.outcome].status });
    }
    const response = ctx.redirect(result.next, 303);
    response.headers.append("set-cookie", sessionCookie(ctx.state.config, result.sessionToken));
    response.headers.append("set-cookie", clearedReferralCookie(ctx.state.config));
    ctx.state.log.info("auth.signed_in", { user_id: result.user.id, new_account: result.created });
    return response;
  },
});

export default define.page<typeof handler>(function VerifyProblem({ data }) {
  const problem = PROBLEMS[data.problem];
  return (
    <section class="narrow">
      <h1>{problem.title}</h1>
      <p>{problem.detail} Enter your email and we'll send you a new one.</p>
      <SignInForm next="/" />
    </section>
  );
});

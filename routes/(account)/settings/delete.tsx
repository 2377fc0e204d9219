import { define, type State } from "../../../lib/state.ts";
import { Head, page } from "../../../lib/web/mod.ts";
import { brand } from "../../../lib/brand.ts";
import { DomainError } from "../../../lib/domain_error.ts";
import { toHttpError } from "../../../lib/http/errors.ts";
import type { HttpError } from "../../../lib/web/mod.ts";
import { signOut } from "../../../lib/http/sign_out.ts";
import { eraseAccount } from "../../../lib/account/erase.ts";
import { liveSubscriptionOf } from "../../../lib/billing/manage.ts";

/**
 * Deleting the account, confirmed by typing one's own email address: a plain form, so it works
 * without JavaScript. Done, the browser is signed out and sent to a page that says so.
 */
export const handler = define.handlers({
  async GET(ctx) {
    return page(await view(ctx.state, null));
  },
  async POST(ctx) {
    const form = await ctx.req.formData().catch(() => new FormData());
    try {
      await eraseAccount(ctx.state, ctx.state.user!, String(form.get("email") ?? ""));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const { status } = toHttpError(error) as HttpError;
      return page(await view(ctx.state, error.message), { status });
    }
    const headers = await signOut(ctx.state);
    headers.set("location", "/account-deleted");
    return new Response(null, { status: 303, headers });
  },
});

/** The form, with the signed-in person's address to type and what they would lose. */
async function view(state: State, problem: string | null) {
  const user = state.user!;
  return {
    email: user.email,
    subscribed: await liveSubscriptionOf(state.db, user) !== null,
    problem,
  };
}

export default define.page<typeof handler>(function DeleteAccount({ data }) {
  return (
    <section class="narrow">
      <Head>
        <title>Delete your account — {brand.name}</title>
      </Head>
      <h1>Delete your account?</h1>
      {data.problem && <p class="notice notice-error" role="alert">{data.problem}</p>}
      <ul>
        {data.subscribed && (
          <li>
            Your subscription ends now, and the rest of the period you have paid for is not
            refunded.
          </li>
        )}
        <li>
          Your email address, sign-ins, the IP address and browser recorded when you subscribed, and
          your card details are deleted, and your referral link stops working. Any days of credit on
          your account are lost.
        </li>
        <li>
          We keep, without your name or address: proof of the cancellation waiver you accepted for
          each monthly purchase (for as long as a claim about it could be made), the record of your
          credit (it explains every day of credit given), and the ids of Stripe's messages about
          your payments with their contents removed.
        </li>
      </ul>
      <p>
        Want a copy first? <a href="/settings/export">Download my data</a>.
      </p>
      <form method="post" action="/settings/delete" class="card">
        <div class="field">
          <label for="confirm-email">To confirm, type your email address: {data.email}</label>
          <input
            id="confirm-email"
            name="email"
            type="email"
            required
            autocomplete="off"
            spellcheck={false}
          />
        </div>
        <div class="actions">
          <button type="submit" class="btn btn-danger">Delete my account</button>
          <a class="btn btn-secondary" href="/settings">Keep my account</a>
        </div>
      </form>
    </section>
  );
});

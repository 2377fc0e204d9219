import { define } from "../lib/state.ts";
import { Head } from "../lib/web/mod.ts";
import { brand } from "../lib/brand.ts";

/** Where a deleted account ends up, signed out. */
export default define.page(function AccountDeleted() {
  return (
    <section class="narrow">
      <Head>
        <title>Your account has been deleted — {brand.name}</title>
      </Head>
      <h1>Your account has been deleted</h1>
      <p>
        Any subscription you had is cancelled, you are signed out, and your email address and other
        personal details are gone.
      </p>
      <p class="muted">
        We keep only what we must, with nothing that names you: proof of the cancellation waiver for
        each monthly purchase, the record of credit given, and the ids of Stripe's messages about
        your payments — so the accounts add up and we can answer a claim about a purchase.
      </p>
      <div class="actions">
        <a class="btn btn-secondary" href="/">Back to the front page</a>
      </div>
    </section>
  );
});

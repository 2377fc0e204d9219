import { useEffect, useRef, useState } from "preact/hooks";
import { REFERRAL_CREDIT_DAYS } from "../lib/referral_terms.ts";

/**
 * The button that spends a sign-in link (a plain form: it works without JavaScript). In the
 * browser that asked for the link (`auto`), it presses itself.
 */
export default function ContinueSignIn(props: {
  token: string;
  invited: boolean;
  /** The invitation box starts ticked only in the browser that asked for the link. */
  acceptInvitation: boolean;
  auto: boolean;
}) {
  const form = useRef<HTMLFormElement>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    if (props.auto) form.current?.requestSubmit();
  }, []);

  return (
    <form
      ref={form}
      method="post"
      action="/auth/verify"
      class="card"
      onSubmit={() => setSending(true)}
    >
      <input type="hidden" name="token" value={props.token} />
      {props.invited && (
        <>
          <h2>You were invited by a friend</h2>
          <div class="waiver">
            <input
              id="accept-invitation"
              type="checkbox"
              name="accept_invitation"
              value="yes"
              defaultChecked={props.acceptInvitation}
            />
            <label for="accept-invitation">
              Count me as their friend: when I first pay, we both get {REFERRAL_CREDIT_DAYS}{" "}
              days of paid access.
            </label>
          </div>
        </>
      )}
      <button type="submit" class="btn" disabled={sending}>
        {sending ? "Signing you in…" : "Continue signing in"}
      </button>
    </form>
  );
}

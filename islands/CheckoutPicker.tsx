import { useState } from "preact/hooks";
import { postJson, signInAndReturn } from "../lib/client/api.ts";
import { REG36_WAIVER } from "../lib/billing/waiver.ts";
import type { PlanOffer } from "../lib/billing/prices.ts";

interface Props {
  plans: PlanOffer[];
  initial: "monthly" | "annual";
  signedIn: boolean;
  /** The annual plan's free trial for this person; 0 when they have had theirs. */
  trialDays: number;
}

/**
 * Choosing a plan and going to Stripe Checkout. A monthly plan starts at once, so its button
 * only works once the Reg-36 waiver is ticked — and the server checks again.
 */
export default function CheckoutPicker(props: Props) {
  const [cadence, setCadence] = useState(props.initial);
  const [waiver, setWaiver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ message: string; manage: boolean } | null>(null);
  const needsWaiver = cadence === "monthly";
  const blocked = props.plans.length === 0 || (needsWaiver && !waiver);

  async function buy(event: Event) {
    event.preventDefault();
    if (blocked || busy) return;
    if (!props.signedIn) return signInAndReturn(`/pricing?plan=${cadence}`);
    setBusy(true);
    setProblem(null);
    const result = await postJson<{ url: string }>("/api/stripe/checkout", {
      cadence,
      reg36Waiver: needsWaiver ? waiver : false,
    });
    if (result.ok) return location.assign(result.data.url);
    setBusy(false);
    if (result.status === 401) return signInAndReturn(`/pricing?plan=${cadence}`);
    setProblem({ message: result.message, manage: result.error === "already_subscribed" });
  }

  return (
    <form class="card picker" onSubmit={buy} aria-labelledby="picker-title">
      <h2 id="picker-title">Choose your plan</h2>
      <fieldset class="plan-options">
        <legend class="visually-hidden">Billing period</legend>
        {props.plans.map((plan) => (
          <label
            class={`plan-option${cadence === plan.cadence ? " selected" : ""}`}
            key={plan.cadence}
          >
            <input
              type="radio"
              name="cadence"
              value={plan.cadence}
              checked={cadence === plan.cadence}
              onChange={() => setCadence(plan.cadence)}
            />
            <span>
              <strong>{plan.cadence === "monthly" ? "Monthly" : "Annual"}</strong> — {plan.price}
              <span class="hint">{plan.summary}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {needsWaiver && (
        <div class="waiver">
          <input
            id="reg36-waiver"
            type="checkbox"
            required
            checked={waiver}
            onChange={(e) => setWaiver(e.currentTarget.checked)}
          />
          <label for="reg36-waiver">{REG36_WAIVER.text}</label>
        </div>
      )}
      <button type="submit" class="btn" disabled={blocked || busy} aria-describedby="picker-note">
        {busy
          ? "Opening secure checkout…"
          : cadence === "monthly"
          ? "Subscribe monthly"
          : props.trialDays > 0
          ? `Start ${props.trialDays}-day free trial`
          : "Subscribe yearly"}
      </button>
      <p id="picker-note" class="hint">
        {props.plans.length === 0
          ? "Plans cannot be bought right now. Please try again later."
          : needsWaiver && !waiver
          ? "Tick the box above to subscribe monthly."
          : props.signedIn
          ? "You'll pay on Stripe's secure checkout page."
          : "You'll sign in first, then pay on Stripe's secure checkout page."}
      </p>
      {problem && (
        <p class="notice notice-error" role="alert">
          {problem.message} {problem.manage && <a href="/settings">Go to your settings</a>}
        </p>
      )}
    </form>
  );
}

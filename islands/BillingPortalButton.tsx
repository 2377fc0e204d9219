import { useState } from "preact/hooks";
import { postJson } from "../lib/client/api.ts";

/** Opens the Stripe Customer Portal, where subscribers change card, plan or cancel. */
export default function BillingPortalButton() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function open() {
    setBusy(true);
    setProblem(null);
    const result = await postJson<{ url: string }>("/api/stripe/portal");
    if (result.ok) return location.assign(result.data.url);
    setBusy(false);
    setProblem(result.message);
  }

  return (
    <>
      <button type="button" class="btn" onClick={open} disabled={busy}>
        {busy ? "Opening billing portal…" : "Manage billing"}
      </button>
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
    </>
  );
}

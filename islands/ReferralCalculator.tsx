import { useState } from "preact/hooks";

const MAX_FRIENDS = 100;

/** "If N friends subscribe, you get N × 45 days": the programme's arithmetic, interactively. */
export default function ReferralCalculator(props: { creditDays: number }) {
  const [friends, setFriends] = useState(3);
  const days = friends * props.creditDays;
  return (
    <div class="card">
      <div class="field">
        <label for="friends">Friends who subscribe</label>
        <input
          id="friends"
          type="number"
          min={0}
          max={MAX_FRIENDS}
          value={friends}
          onInput={(event) => {
            const value = Number(event.currentTarget.value);
            if (Number.isInteger(value)) setFriends(Math.min(MAX_FRIENDS, Math.max(0, value)));
          }}
        />
      </div>
      <p aria-live="polite">
        You would get <strong data-testid="credit-days">{days}</strong>{" "}
        days of paid access{days >= 60 ? ` (about ${Math.round(days / 30)} months)` : ""}.
      </p>
    </div>
  );
}

import { define } from "../lib/state.ts";
import { brand } from "../lib/brand.ts";
import { REFERRAL_CREDIT_DAYS } from "../lib/referral_terms.ts";

export default define.page(function Landing() {
  return (
    <>
      <section class="hero">
        <h1>{brand.tagline}.</h1>
        <p class="lede">{brand.description}</p>
        <div class="actions">
          <a class="btn" href="/pricing">See plans</a>
          <a class="btn btn-secondary" href="/referrals">
            Invite a friend, both get {REFERRAL_CREDIT_DAYS} days
          </a>
        </div>
      </section>
      <ul class="features">
        <li class="card">
          <h2>The morning briefing</h2>
          <p>Five minutes on what moved overnight and why it matters, before the market opens.</p>
        </li>
        <li class="card">
          <h2>Long reads</h2>
          <p>Weekly deep dives into companies, sectors and the ideas behind the headlines.</p>
        </li>
        <li class="card">
          <h2>No noise</h2>
          <p>No ads, no tips, no hype. Independent writing paid for by readers, not advertisers.</p>
        </li>
      </ul>
    </>
  );
});

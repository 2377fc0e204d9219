-- Referral credit that keeps its promise: what became of each reward, reversals in the ledger,
-- the next charge moved for subscribers, and what guards the programme against self-referral.

-- A referral's reward: credited to both sides (the referrer's side skipped past the yearly cap),
-- held for an operator (the buyer paid with a card the referrer has used), reversed (its payment
-- was refunded in full or disputed; a won dispute restores it) or voided by an operator.
alter table referrals
  add column reward_status text
    check (reward_status in ('credited', 'held', 'reversed', 'voided')),
  add column referrer_capped boolean not null default false,
  -- The payment that converted the referral: refunds and disputes of it take the reward back.
  add column converting_charge_id text,
  add column hold_reason text,
  add column reversed_at timestamptz,
  add column reversal_cause text,
  add column restored_at timestamptz;
update referrals set reward_status = 'credited' where converted_at is not null;
create index referrals_converting_charge on referrals (converting_charge_id)
  where converting_charge_id is not null;

-- The ledger gains reversals: a row with negative days that takes back one grant (and a grant
-- that restores a reversal). credit_until is still exactly what the ledger adds up to.
alter table credit_grants
  drop constraint credit_grants_days_check,
  drop constraint credit_grants_check,
  add column reverses_grant_id bigint unique references credit_grants (id),
  add column restores_grant_id bigint unique references credit_grants (id),
  add constraint credit_grants_direction check (
    (days > 0 and ends_at > starts_at and reverses_grant_id is null) or
    (days < 0 and ends_at <= starts_at and reverses_grant_id is not null and
     restores_grant_id is null));
drop index credit_grants_once_per_referral_side;
create unique index credit_grants_once_per_referral_side on credit_grants (referral_id, reason)
  where referral_id is not null and reverses_grant_id is null and restores_grant_id is null;

-- Moving a subscriber's next charge by granted days. Moves of one subscription that build on
-- each other share a `base` (the next charge they started from); the charge is due at base plus
-- the days of the moves not undone.
create table charge_moves (
  id bigint generated always as identity primary key,
  grant_id bigint not null unique references credit_grants (id) on delete cascade,
  user_id bigint not null references users (id) on delete cascade,
  subscription_id text not null,
  days integer not null check (days > 0),
  base timestamptz not null,
  planned_at timestamptz not null,
  undone_at timestamptz
);
create index charge_moves_subscription on charge_moves (subscription_id, base);

-- Every payment method fingerprint a person has paid with (Stripe gives one card the same
-- fingerprint wherever it is used).
create table payment_fingerprints (
  user_id bigint not null references users (id) on delete cascade,
  fingerprint text not null,
  first_seen_at timestamptz not null,
  primary key (user_id, fingerprint)
);
create index payment_fingerprints_fingerprint on payment_fingerprints (fingerprint);

-- What became of payments: refunded in full, or disputed (the newest status of each dispute).
-- Kept by charge, whatever order events arrive in and whether or not the conversion has landed.
create table charge_outcomes (
  charge_id text primary key,
  refunded_in_full_at timestamptz
);
create table payment_disputes (
  dispute_id text primary key,
  charge_id text not null,
  status text not null,
  updated_at timestamptz not null
);
create index payment_disputes_charge on payment_disputes (charge_id);

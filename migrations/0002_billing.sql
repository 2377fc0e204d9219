-- Billing: the Stripe side of each person, every webhook event received, every subscription
-- seen, and the evidence of consent given before paying.

alter table users
  add column stripe_customer_id text unique,
  add column stripe_subscription_id text,
  add column stripe_subscription_status text,
  add column stripe_trial_end_at timestamptz;

-- Every Stripe event received, once. The unique event id is the exactly-once guarantee.
create table stripe_events (
  id bigint generated always as identity primary key,
  event_id text not null unique,
  event_type text not null,
  received_at timestamptz not null default now(),
  -- The raw body, capped at 16 KiB so no sender can bloat a row; a replay of a truncated
  -- payload fetches the event from Stripe instead.
  payload text not null,
  payload_truncated boolean not null default false,
  processed_at timestamptz,
  error text
);
create index stripe_events_received_at on stripe_events (received_at);
create index stripe_events_unprocessed on stripe_events (received_at) where processed_at is null;

-- The latest known state of every subscription, as Stripe last told us. It orders events
-- (a stale event never overwrites newer state) and remembers that an ended subscription stays
-- ended, whatever arrives late.
create table subscriptions (
  stripe_subscription_id text primary key,
  user_id bigint not null references users (id) on delete cascade,
  status text not null,
  trial_end_at timestamptz,
  cancel_at_period_end boolean not null default false,
  -- `created` of the newest event applied to this subscription.
  last_event_at timestamptz not null,
  ended_at timestamptz
);
create index subscriptions_user_id on subscriptions (user_id);

-- Evidence of consent (the Reg-36 waiver): who, when, which text, from where.
create table consents (
  id bigint generated always as identity primary key,
  user_id bigint references users (id) on delete set null,
  kind text not null check (kind in ('reg36_waiver')),
  text_version text not null,
  accepted_at timestamptz not null,
  ip text,
  user_agent text,
  checkout_session_id text
);
create index consents_user_id on consents (user_id);

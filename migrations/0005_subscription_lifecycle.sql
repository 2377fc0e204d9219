-- The subscription's whole life: when it started (which of two live ones is the duplicate), when
-- its period ends and what it costs (what settings says), when a past-due episode began (how long
-- access lasts while Stripe retries), and what became of a duplicate.
alter table subscriptions
  add column started_at timestamptz,
  add column current_period_end timestamptz,
  add column amount integer,
  add column currency text,
  add column past_due_since timestamptz,
  -- A second live subscription of the same person: the one kept, and when this one was
  -- cancelled and refunded (by the job that does it).
  add column duplicate_of text,
  add column duplicate_resolved_at timestamptz,
  add column duplicate_refunded_amount integer;

-- The person's current subscription's past-due episode, beside its status; and how many Stripe
-- customers the person has had (a deleted one is replaced, never reused).
alter table users
  add column stripe_past_due_since timestamptz,
  add column stripe_customer_generation integer not null default 0;

-- Durable work that must happen because of a committed change: written in the same transaction
-- as the change, run after it by any instance, each job claimed by one runner at a time.
create table jobs (
  id bigint generated always as identity primary key,
  kind text not null,
  -- What caused it, unique per kind: the same trigger never makes a second job.
  key text not null,
  payload jsonb not null default '{}',
  run_at timestamptz not null,
  attempts integer not null default 0,
  max_attempts integer not null,
  -- A runner's lease: while it lasts no other runner takes the job; a runner that died lets it
  -- lapse, and the job is taken again.
  locked_until timestamptz,
  last_error text,
  done_at timestamptz,
  failed_at timestamptz,
  created_at timestamptz not null,
  unique (kind, key)
);
create index jobs_due on jobs (run_at) where done_at is null and failed_at is null;

-- Erasure of a person's account (UK GDPR art. 17). The person's row stays as a pseudonymous
-- tombstone, because the credit ledger, consents and referrals point at it: `deleted_at` says
-- when, and the address becomes `deleted-<id>`, which no sign-in can ever ask for.
alter table users add column deleted_at timestamptz;
alter table users
  drop constraint users_email_check,
  add constraint users_email_check check (
    email = lower(email) and
    (position('@' in email) > 1 or (deleted_at is not null and email = 'deleted-' || id)));

-- Stripe customers of erased people. Events about them can still arrive (Stripe sends the
-- cancellation and the deletion after the fact, and refunds or disputes months later): their
-- payloads are stored redacted, and the events change nothing for the person.
create table erased_stripe_customers (
  customer_id text primary key,
  user_id bigint not null references users (id) on delete cascade,
  erased_at timestamptz not null
);

-- An audit row whose payload was replaced because it was about an erased person; the event's
-- id, type and times stay (exactly-once processing needs the ids).
alter table stripe_events add column payload_redacted_at timestamptz;

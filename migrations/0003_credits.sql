-- Days of paid access granted outside a subscription (referrals, operators), and the ledger
-- that explains every one of them.

alter table users add column credit_until timestamptz;

create table credit_grants (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  days integer not null check (days > 0),
  reason text not null check (reason in ('referral_buyer', 'referral_referrer', 'admin_grant')),
  referral_id bigint references referrals (id) on delete set null,
  stripe_event_id text,
  granted_at timestamptz not null,
  -- The window this grant added: from max(granted_at, the previous credit_until) for `days` days.
  -- users.credit_until is always the latest ends_at.
  starts_at timestamptz not null,
  ends_at timestamptz not null check (ends_at > starts_at),
  note text
);
create index credit_grants_user_id on credit_grants (user_id, ends_at);
-- A referral pays each side once, whatever the application does.
create unique index credit_grants_once_per_referral_side on credit_grants (referral_id, reason)
  where referral_id is not null;

-- Accounts: people, their sign-in links and sessions, and who referred whom.

create table users (
  id bigint generated always as identity primary key,
  email text not null unique check (email = lower(email) and position('@' in email) > 1),
  created_at timestamptz not null default now(),
  tier text not null default 'free' check (tier in ('free', 'paid')),
  -- Unguessable and URL-safe: it appears in the person's referral link.
  referral_code text not null unique check (referral_code ~ '^[A-Za-z0-9_-]{8,64}$')
);

-- Single-use sign-in links. Only the SHA-256 of the token is kept.
create table login_tokens (
  id bigint generated always as identity primary key,
  token_hash text not null unique,
  email text not null,
  next_path text not null default '/',
  -- The referral code the requesting browser carried, so a link opened elsewhere still counts.
  referral_code text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index login_tokens_expires_at on login_tokens (expires_at);

create table sessions (
  id bigint generated always as identity primary key,
  token_hash text not null unique,
  user_id bigint not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_user_id on sessions (user_id);
create index sessions_expires_at on sessions (expires_at);

create table referrals (
  id bigint generated always as identity primary key,
  referrer_id bigint references users (id) on delete set null,
  -- One referrer per person, ever: the first one wins.
  referred_user_id bigint not null unique references users (id) on delete cascade,
  code text not null,
  created_at timestamptz not null default now(),
  converted_at timestamptz,
  credited_at timestamptz,
  check (referrer_id is null or referrer_id <> referred_user_id)
);
create index referrals_referrer_id on referrals (referrer_id);

-- Sliding-window rate limits shared by every app instance: one row per allowed attempt.
create table rate_limit_hits (
  key text not null,
  hit_at timestamptz not null
);
create index rate_limit_hits_key_hit_at on rate_limit_hits (key, hit_at);

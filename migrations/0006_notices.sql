-- Every notice sent to a subscriber: what, to whom, because of what (unique per kind, so a
-- trigger delivered five times sends one), when, and the mail server's message id.
create table notices (
  id bigint generated always as identity primary key,
  kind text not null,
  user_id bigint references users (id) on delete set null,
  trigger text not null,
  to_address text not null,
  sent_at timestamptz not null,
  message_id text,
  unique (kind, trigger)
);
create index notices_user_id on notices (user_id);

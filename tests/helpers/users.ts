/** People in the test database, created the way the app creates them. */
import type { Sql } from "../../lib/db/client.ts";
import { newReferralCode, type User } from "../../lib/auth/users.ts";

let counter = 0;

export async function createUser(
  db: Sql,
  options: { email?: string; customer?: string | null; referredBy?: User } = {},
): Promise<User> {
  counter += 1;
  const email = options.email ?? `person${counter}-${crypto.randomUUID().slice(0, 6)}@example.com`;
  // Stripe's shape (`cus_` and letters and digits): events about it take the customer's lock, as
  // every delivery in production does.
  const customer = options.customer === undefined
    ? `cus_test${counter}x${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`
    : options.customer;
  const [user] = await db<User[]>`
    insert into users (email, referral_code, stripe_customer_id)
    values (${email}, ${newReferralCode()}, ${customer})
    returning *`;
  if (options.referredBy) {
    await db`
      insert into referrals (referrer_id, referred_user_id, code)
      values (${options.referredBy.id}, ${user.id}, ${options.referredBy.referralCode})`;
  }
  return user;
}

export async function reload(db: Sql, user: { id: number }): Promise<User> {
  const [row] = await db<User[]>`select * from users where id = ${user.id}`;
  return row;
}

/** How many referrals name the person with `email` as the friend who was referred. */
export async function referralsOf(db: Sql, email: string): Promise<number> {
  const [{ count }] = await db<{ count: number }[]>`
    select count(*)::int as count from referrals r join users u on u.id = r.referred_user_id
    where u.email = ${email}`;
  return count;
}

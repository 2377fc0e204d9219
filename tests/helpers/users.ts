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
  const customer = options.customer === undefined
    ? `cus_test_${counter}_${crypto.randomUUID().slice(0, 6)}`
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

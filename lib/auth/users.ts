/** People with accounts. Emails are stored lowercased; the referral code is unguessable. */
import { z } from "zod";
import type { Queryable, Tx } from "../db/client.ts";
import { randomToken } from "../crypto.ts";

export interface User {
  id: number;
  email: string;
  createdAt: Date;
  tier: "free" | "paid";
  referralCode: string;
  stripeCustomerId: string | null;
  /** The subscription that decides the tier; null when there is none. */
  stripeSubscriptionId: string | null;
  stripeSubscriptionStatus: string | null;
  stripeTrialEndAt: Date | null;
  /** When the current subscription's past-due episode began; null unless it is past due. */
  stripePastDueSince: Date | null;
  /** How many Stripe customers the person has had: a deleted one is replaced, never reused. */
  stripeCustomerGeneration: number;
  /** Paid access from credit (referrals, operators) runs until this moment. */
  creditUntil: Date | null;
  /** When the person deleted their account; the row stays as a pseudonymous tombstone. */
  deletedAt: Date | null;
}

export const emailSchema = z.string().trim().toLowerCase().max(254, "is too long").pipe(
  z.email("must be a valid email address"),
);

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** 12 random bytes: 16 URL-safe characters, far beyond guessing or collision. */
export function newReferralCode(): string {
  return randomToken(12);
}

export async function findUserById(db: Queryable, id: number): Promise<User | null> {
  const [user] = await db<User[]>`select * from users where id = ${id}`;
  return user ?? null;
}

export async function findUserByEmail(db: Queryable, email: string): Promise<User | null> {
  const [user] = await db<User[]>`select * from users where email = ${normaliseEmail(email)}`;
  return user ?? null;
}

/** The user with this email, created if new. `created` tells a first sign-in apart. */
export async function findOrCreateUser(
  tx: Tx,
  email: string,
): Promise<{ user: User; created: boolean }> {
  const normalised = normaliseEmail(email);
  const [inserted] = await tx<User[]>`
    insert into users (email, referral_code) values (${normalised}, ${newReferralCode()})
    on conflict (email) do nothing
    returning *`;
  if (inserted) return { user: inserted, created: true };
  const [existing] = await tx<User[]>`select * from users where email = ${normalised}`;
  return { user: existing, created: false };
}

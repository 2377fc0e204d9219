/**
 * `invoice.paid`: the referral trigger is the first invoice with money in it (`amount_paid > 0`).
 * A £0 trial invoice is not a payment; renewals and replays find the referral already converted.
 *
 * Before the transaction, Stripe is asked which charge paid the invoice and with what card (its
 * fingerprint), and — when the payment may convert a referral — which card the referrer has on
 * file: a refund or dispute of that charge takes the reward back, and a card the referrer has
 * used holds it for an operator. Every paying card is remembered for later conversions.
 */
import Stripe from "stripe";
import { convertReferral } from "../../../referrals/conversion.ts";
import {
  NO_PAYMENT_FACTS,
  type PaymentFacts,
  recordPaymentFingerprint,
} from "../../../referrals/rewards.ts";
import { lockPerson } from "../../entitlement.ts";
import { InvoiceObject } from "./objects.ts";
import { type EventHandler, personNotFound, type PrepareServices } from "./context.ts";
import type { StripeEventEnvelope } from "../verify.ts";

export const invoicePaid: EventHandler<PaymentFacts> = {
  prepare: paymentFacts,
  async apply(ctx) {
    const invoice = InvoiceObject.parse(ctx.event.data.object);
    if (invoice.amount_paid === 0) return;
    const user = await lockPerson(ctx.tx, { customerId: invoice.customer });
    if (!user) return personNotFound(ctx, invoice.customer);
    const payment = ctx.prepared ?? NO_PAYMENT_FACTS;
    if (payment.fingerprint) {
      await recordPaymentFingerprint(ctx.tx, user.id, payment.fingerprint, ctx.now);
    }
    const conversion = await convertReferral(ctx.tx, user, {
      eventId: ctx.event.id,
      now: ctx.now,
      payment,
      rewardsPerYear: ctx.config.referralRewardsPerYear,
    });
    if (conversion) {
      ctx.log.info("referral.converted", {
        event_id: ctx.event.id,
        referral_id: conversion.referralId,
        buyer_id: user.id,
        referrer_id: conversion.referrerId,
        outcome: conversion.outcome,
        referrer_capped: conversion.referrerCapped,
        charge_id: payment.chargeId,
      });
    }
  },
};

async function paymentFacts(
  event: StripeEventEnvelope,
  services: PrepareServices,
): Promise<PaymentFacts> {
  const invoice = InvoiceObject.safeParse(event.data.object);
  const { stripe } = services;
  if (!stripe || !invoice.success || !invoice.data.id || invoice.data.amount_paid === 0) {
    return NO_PAYMENT_FACTS;
  }
  try {
    const payments = await stripe.invoicePayments.list({ invoice: invoice.data.id, limit: 10 });
    const charge = payments.data.find((p) => p.status === "paid" && p.payment.charge)?.payment
      .charge;
    if (!charge) return NO_PAYMENT_FACTS;
    const chargeId = typeof charge === "string" ? charge : charge.id;
    const details = (await stripe.charges.retrieve(chargeId)).payment_method_details;
    const fingerprint = details?.card?.fingerprint ?? details?.bacs_debit?.fingerprint ?? null;
    return {
      chargeId,
      fingerprint,
      referrerFingerprints: fingerprint
        ? await referrerCardOnFile(services, stripe, invoice.data.customer)
        : [],
    };
  } catch (error) {
    // An invoice Stripe does not know (an event made up by hand): nothing to learn about it.
    if (
      error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing"
    ) {
      return NO_PAYMENT_FACTS;
    }
    throw error;
  }
}

/** The fingerprint of the default card of the referrer of an unconverted referral, if any. */
async function referrerCardOnFile(
  services: PrepareServices,
  stripe: Stripe,
  buyerCustomerId: string,
): Promise<string[]> {
  const [referrer] = await services.db<{ stripeCustomerId: string | null }[]>`
    select referrer.stripe_customer_id
    from referrals
      join users buyer on buyer.id = referrals.referred_user_id
      join users referrer on referrer.id = referrals.referrer_id
    where buyer.stripe_customer_id = ${buyerCustomerId} and referrals.converted_at is null`;
  if (!referrer?.stripeCustomerId) return [];
  const customer = await stripe.customers.retrieve(referrer.stripeCustomerId);
  if (customer.deleted) return [];
  const method = customer.invoice_settings.default_payment_method;
  if (!method) return [];
  const card = typeof method === "string" ? await stripe.paymentMethods.retrieve(method) : method;
  const fingerprint = card.card?.fingerprint ?? card.bacs_debit?.fingerprint;
  return fingerprint ? [fingerprint] : [];
}

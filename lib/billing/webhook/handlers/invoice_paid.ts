/**
 * `invoice.paid`: the referral trigger is the first invoice with money in it (`amount_paid > 0`).
 * A £0 trial invoice is not a payment; renewals and replays find the referral already converted.
 */
import { convertReferral } from "../../../referrals/conversion.ts";
import { lockPerson } from "../../entitlement.ts";
import { InvoiceObject } from "./objects.ts";
import { type EventHandler, personNotFound } from "./context.ts";

export const invoicePaid: EventHandler = {
  async apply(ctx) {
    const invoice = InvoiceObject.parse(ctx.event.data.object);
    if (invoice.amount_paid === 0) return;
    const user = await lockPerson(ctx.tx, { customerId: invoice.customer });
    if (!user) return personNotFound(ctx, invoice.customer);
    const conversion = await convertReferral(ctx.tx, user, {
      eventId: ctx.event.id,
      now: ctx.now,
    });
    if (conversion) {
      ctx.log.info("referral.converted", {
        event_id: ctx.event.id,
        referral_id: conversion.referralId,
        buyer_id: user.id,
        referrer_id: conversion.referrerId,
      });
    }
  },
};

/**
 * `invoice.payment_failed`: tell the subscriber at once — what failed, when Stripe tries again,
 * when access ends if nothing changes, and the link to update the card. One notice per failed
 * attempt of an invoice.
 */
import { lockPerson } from "../../entitlement.ts";
import { enqueueNotice } from "../../../notices/send.ts";
import { InvoiceObject } from "./objects.ts";
import { type EventHandler, personNotFound } from "./context.ts";

export const invoicePaymentFailed: EventHandler = {
  async apply(ctx) {
    const invoice = InvoiceObject.parse(ctx.event.data.object);
    if (!invoice.id || !invoice.amount_due || !invoice.currency) return;
    const user = await lockPerson(ctx.tx, { customerId: invoice.customer });
    if (!user) return personNotFound(ctx, invoice.customer);
    await enqueueNotice(ctx.tx, {
      kind: "payment_failed",
      userId: user.id,
      trigger: `${invoice.id}:${invoice.attempt_count ?? 1}`,
      data: {
        invoiceId: invoice.id,
        amountDue: { amount: invoice.amount_due, currency: invoice.currency },
        failedAt: new Date(ctx.event.created * 1000).toISOString(),
        nextAttempt: invoice.next_payment_attempt
          ? new Date(invoice.next_payment_attempt * 1000).toISOString()
          : null,
        accessEnds: null,
        stopped: false,
      },
    }, ctx.now);
  },
};

import assert from "node:assert/strict";
import Stripe from "stripe";
import {
  deliveredInOrder,
  pressButton,
  startSimulatorWithReceiver,
  subscribe,
} from "../helpers/stripe.ts";

const START = new Date("2026-03-01T09:00:00Z");
const unix = (iso: string) => Date.parse(iso) / 1000;

Deno.test("subscriptions.list: newest first, Stripe's default leaves out canceled ones", async () => {
  const { sim, stripe, close } = await startSimulatorWithReceiver({ now: () => START });
  try {
    const customer = await stripe.customers.create({ email: "lists@example.com" });
    const first = await subscribe(stripe, { price: sim.prices.monthly, customer: customer.id });
    sim.advanceClock(new Date("2026-03-01T10:00:00Z"));
    const second = await subscribe(stripe, { price: sim.prices.annual, customer: customer.id });
    sim.advanceClock(new Date("2026-03-01T11:00:00Z"));
    const third = await subscribe(stripe, { price: sim.prices.monthly, customer: customer.id });
    await stripe.subscriptions.cancel(first.subscription.id);
    const other = await subscribe(stripe, { price: sim.prices.monthly, email: "b@example.com" });

    const live = await stripe.subscriptions.list({ customer: customer.id });
    assert.equal(live.object, "list");
    assert.equal(live.url, "/v1/subscriptions");
    assert.equal(live.has_more, false);
    assert.deepEqual(live.data.map((s) => s.id), [third.subscription.id, second.subscription.id]);

    const all = await stripe.subscriptions.list({ customer: customer.id, status: "all" });
    assert.deepEqual(all.data.map((s) => s.id), [
      third.subscription.id,
      second.subscription.id,
      first.subscription.id,
    ]);
    const canceled = await stripe.subscriptions.list({ status: "canceled" });
    assert.deepEqual(canceled.data.map((s) => s.id), [first.subscription.id]);

    const page = await stripe.subscriptions.list({ status: "all", limit: 2 });
    assert.equal(page.data.length, 2);
    assert.equal(page.has_more, true);
    assert.equal(page.data[0].id, other.subscription.id);
    const ids: string[] = [];
    for await (const subscription of stripe.subscriptions.list({ status: "all", limit: 1 })) {
      ids.push(subscription.id);
    }
    assert.equal(ids.length, 4, "auto-pagination walks every page with starting_after");

    await assert.rejects(
      stripe.subscriptions.list({ customer: "cus_nope" }),
      (error: Stripe.errors.StripeError) =>
        error.statusCode === 400 && error.code === "resource_missing" && error.param === "customer",
    );
    await assert.rejects(
      stripe.subscriptions.list({ status: "sleeping" as never }),
      (error: Stripe.errors.StripeError) => error.param === "status",
    );
  } finally {
    await close();
  }
});

Deno.test("checkout sessions: list, expire through the API, and expire by themselves", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  const create = (email: string) =>
    stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      customer_email: email,
      success_url: "https://site.test/done",
    });
  try {
    const expiring = await create("a@example.com");
    const manual = await create("b@example.com");

    await t.step("expire: checkout.session.expired, and a second expire is refused", async () => {
      const events = await deliveredInOrder(
        context,
        () => stripe.checkout.sessions.expire(manual.id),
      );
      assert.deepEqual(events.map((event) => event.type), ["checkout.session.expired"]);
      const expired = events[0].data.object as Stripe.Checkout.Session;
      assert.equal(expired.id, manual.id);
      assert.equal(expired.status, "expired");
      await assert.rejects(
        stripe.checkout.sessions.expire(manual.id),
        (error: Stripe.errors.StripeError) =>
          error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 400 &&
          /Only Checkout Sessions with a status in \["open"\] can be expired/.test(error.message),
      );
      const paid = await pressButton(manual.url!, "Pay").catch((error) => error);
      assert.match(String(paid), /no button "Pay"/, "an expired session offers no Pay button");
    });

    await t.step("list by status", async () => {
      const open = await stripe.checkout.sessions.list({ status: "open" });
      assert.deepEqual(open.data.map((session) => session.id), [expiring.id]);
      const all = await stripe.checkout.sessions.list({ limit: 10 });
      assert.deepEqual(all.data.map((session) => session.id), [manual.id, expiring.id]);
      assert.equal(all.url, "/v1/checkout/sessions");
    });

    await t.step("at expires_at the clock expires it: the same event, at that time", async () => {
      const events = await deliveredInOrder(
        context,
        () => sim.advanceClock(new Date("2026-03-02T12:00:00Z")),
      );
      assert.deepEqual(events.map((event) => event.type), ["checkout.session.expired"]);
      assert.equal(events[0].created, expiring.expires_at);
      const response = await fetch(`${expiring.url}/pay`, {
        method: "POST",
        headers: { origin: sim.url, "content-type": "application/x-www-form-urlencoded" },
        redirect: "manual",
      });
      assert.equal(response.status, 409);
      assert.match(await response.text(), /This checkout session is expired/);
    });

    await t.step("a completed session is listed by customer", async () => {
      const { session } = await subscribe(stripe, { price: sim.prices.monthly });
      const listed = await stripe.checkout.sessions.list({ customer: session.customer as string });
      assert.deepEqual(listed.data.map((s) => [s.id, s.status]), [[session.id, "complete"]]);
    });
  } finally {
    await close();
  }
});

Deno.test("a session left open expires on the next request once the injected clock passes it", async () => {
  let now = START;
  const context = await startSimulatorWithReceiver({ now: () => now });
  const { sim, stripe, receiver, close } = context;
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      success_url: "https://site.test/done",
    });
    now = new Date("2026-03-05T09:00:00Z");
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, "expired");
    await sim.settled();
    const [expired] = receiver.ofType("checkout.session.expired");
    assert.equal(expired.created, unix("2026-03-02T09:00:00Z"), "stamped when it was due");
  } finally {
    await close();
  }
});

Deno.test("invoices, invoice payments, charges and payment methods with fingerprints", async (t) => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const visa = await subscribe(stripe, { price: sim.prices.monthly, email: "v@example.com" });
    const created = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sim.prices.monthly, quantity: 1 }],
      customer_email: "m@example.com",
      success_url: "https://site.test/done",
    });
    await pressButton(created.url!, "Pay", { card: "5555555555554444" });
    const mastercard = await stripe.subscriptions.retrieve(
      (await stripe.checkout.sessions.retrieve(created.id)).subscription as string,
    );
    const again = await subscribe(stripe, { price: sim.prices.annual, email: "v2@example.com" });

    let chargeId = "";
    await t.step("the first invoice is listed, paid by one charge", async () => {
      const invoices = await stripe.invoices.list({ subscription: visa.subscription.id });
      assert.equal(invoices.data.length, 1);
      const [invoice] = invoices.data;
      assert.equal(invoice.id, visa.subscription.latest_invoice);
      assert.equal(invoice.status, "paid");
      assert.deepEqual(await stripe.invoices.retrieve(invoice.id).then((i) => i.id), invoice.id);
      const payments = await stripe.invoicePayments.list({ invoice: invoice.id });
      assert.equal(payments.data.length, 1);
      const [payment] = payments.data;
      assert.match(payment.id, /^inpay_\w+$/);
      assert.equal(payment.object, "invoice_payment");
      assert.equal(payment.status, "paid");
      assert.equal(payment.amount_paid, 700);
      assert.equal(payment.payment.type, "charge");
      chargeId = payment.payment.charge as string;
      assert.match(chargeId, /^ch_\w+$/);
      const byCustomer = await stripe.invoices.list({
        customer: visa.subscription.customer as string,
        status: "paid",
      });
      assert.deepEqual(byCustomer.data.map((i) => i.id), [invoice.id]);
    });

    await t.step("the charge and the card carry the same fingerprint", async () => {
      const charge = await stripe.charges.retrieve(chargeId);
      assert.equal(charge.amount, 700);
      assert.equal(charge.payment_method_details?.type, "card");
      const card = charge.payment_method_details!.card!;
      assert.equal(card.brand, "visa");
      assert.equal(card.last4, "4242");
      assert.match(card.fingerprint!, /^[0-9A-Za-z]{16}$/);
      const customer = await stripe.customers.retrieve(
        visa.subscription.customer as string,
      ) as Stripe.Customer;
      const methodId = customer.invoice_settings.default_payment_method as string;
      assert.equal(charge.payment_method, methodId);
      const method = await stripe.paymentMethods.retrieve(methodId);
      assert.match(method.id, /^pm_\w+$/);
      assert.equal(method.type, "card");
      assert.equal(method.customer, customer.id);
      assert.equal(method.card?.fingerprint, card.fingerprint);
    });

    await t.step("same number, same fingerprint; another number, another", async () => {
      const fingerprintOf = async (subscription: Stripe.Subscription) => {
        const customer = await stripe.customers.retrieve(
          subscription.customer as string,
        ) as Stripe.Customer;
        const method = await stripe.paymentMethods.retrieve(
          customer.invoice_settings.default_payment_method as string,
        );
        return method.card!;
      };
      const first = await fingerprintOf(visa.subscription);
      const second = await fingerprintOf(again.subscription);
      const other = await fingerprintOf(mastercard);
      assert.equal(first.fingerprint, second.fingerprint);
      assert.notEqual(first.fingerprint, other.fingerprint);
      assert.equal(other.brand, "mastercard");
      assert.equal(other.last4, "4444");
    });

    await t.step("unknown ids are 404 resource_missing", async () => {
      for (
        const [request, message] of [
          [stripe.invoices.retrieve("in_nope"), "No such invoice: 'in_nope'"],
          [stripe.charges.retrieve("ch_nope"), "No such charge: 'ch_nope'"],
          [stripe.paymentMethods.retrieve("pm_nope"), "No such payment_method: 'pm_nope'"],
        ] as const
      ) {
        await assert.rejects(
          request,
          (error: Stripe.errors.StripeError) =>
            error.statusCode === 404 && error.message === message &&
            error.code === "resource_missing",
        );
      }
      await assert.rejects(
        stripe.invoicePayments.list({ invoice: "in_nope" }),
        (error: Stripe.errors.StripeError) => error.statusCode === 400 && error.param === "invoice",
      );
    });
  } finally {
    await close();
  }
});

Deno.test("deleting a customer cancels their subscriptions, then the id is a deleted stub", async () => {
  const context = await startSimulatorWithReceiver({ now: () => START });
  const { sim, stripe, close } = context;
  try {
    const customer = await stripe.customers.create({ email: "gone@example.com" });
    const monthly = await subscribe(stripe, { price: sim.prices.monthly, customer: customer.id });
    const annual = await subscribe(stripe, { price: sim.prices.annual, customer: customer.id });
    await stripe.subscriptions.cancel(annual.subscription.id);
    await sim.settled();

    const events = await deliveredInOrder(context, () => stripe.customers.del(customer.id));
    assert.deepEqual(events.map((event) => event.type), [
      "customer.subscription.deleted",
      "customer.deleted",
    ]);
    const deleted = events[0].data.object as Stripe.Subscription;
    assert.equal(deleted.id, monthly.subscription.id);
    assert.equal(deleted.status, "canceled");
    assert.equal((events[1].data.object as Stripe.Customer).id, customer.id);

    assert.deepEqual(
      { ...await stripe.customers.retrieve(customer.id), lastResponse: null },
      { id: customer.id, object: "customer", deleted: true, lastResponse: null },
    );
    const missing = (error: Stripe.errors.StripeError) =>
      error.code === "resource_missing" &&
      error.message === `No such customer: '${customer.id}'`;
    await assert.rejects(stripe.customers.del(customer.id), missing);
    await assert.rejects(
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer: customer.id,
        line_items: [{ price: sim.prices.monthly, quantity: 1 }],
        success_url: "https://site.test/done",
      }),
      missing,
    );
    await assert.rejects(stripe.billingPortal.sessions.create({ customer: customer.id }), missing);
    await assert.rejects(stripe.subscriptions.list({ customer: customer.id }), missing);
    assert.equal(
      (await stripe.subscriptions.retrieve(monthly.subscription.id)).status,
      "canceled",
      "the subscription itself can still be read",
    );
  } finally {
    await close();
  }
});

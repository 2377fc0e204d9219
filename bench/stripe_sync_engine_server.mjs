/**
 * The peer under test: Supabase's stripe-sync-engine behind a bare `node:http` server, as its
 * README has it used — `runMigrations` for its schema, then `processWebhook(payload, signature)`
 * for each delivery. Run by the bench with Node; the package is installed into PEER_DIR at bench
 * time, never into this repository.
 *
 * Environment: PEER_DIR, DATABASE_URL, PORT, STRIPE_WEBHOOK_SECRET, POOL_SIZE.
 * `POST /webhook` answers 200 once the event is written, 400 for a bad signature and 500 for
 * anything else, with the error's message; `GET /` answers 200 once migrations have run.
 */
import http from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const databaseUrl = required("DATABASE_URL");
const require = createRequire(join(required("PEER_DIR"), "package.json"));
// The CommonJS build: the ES module build of 0.48.5 finds its migrations through `__dirname`,
// which ES modules do not have, and its `runMigrations` only logs that failure.
const { StripeSync, runMigrations } = require("@supabase/stripe-sync-engine");

const migrationErrors = [];
await runMigrations({
  databaseUrl,
  schema: "stripe",
  logger: {
    info() {},
    warn() {},
    error: (error, message) => migrationErrors.push(`${message}: ${error?.message ?? error}`),
  },
});
if (migrationErrors.length) {
  console.error(migrationErrors.join("\n"));
  process.exit(1);
}

// Revalidation through the Stripe API, list expansion and related-entity backfill are all off
// (its defaults): it writes what the event says and makes no Stripe call.
const sync = new StripeSync({
  poolConfig: { connectionString: databaseUrl, max: Number(required("POOL_SIZE")) },
  schema: "stripe",
  stripeSecretKey: "sk_test_peer_makes_no_stripe_calls",
  stripeWebhookSecret: required("STRIPE_WEBHOOK_SECRET"),
});

const server = http.createServer(async (request, response) => {
  if (request.method === "GET" && request.url === "/") {
    response.writeHead(200, { "content-type": "text/plain" }).end("ready");
    return;
  }
  if (request.method !== "POST" || request.url !== "/webhook") {
    response.writeHead(404).end();
    return;
  }
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  try {
    await sync.processWebhook(Buffer.concat(chunks), request.headers["stripe-signature"] ?? "");
    response.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
  } catch (error) {
    const status = error?.type === "StripeSignatureVerificationError" ? 400 : 500;
    response.writeHead(status, { "content-type": "text/plain" }).end(String(error?.message));
  }
});

server.listen(Number(required("PORT")), "127.0.0.1");

process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  sync.close().finally(() => process.exit(0));
});

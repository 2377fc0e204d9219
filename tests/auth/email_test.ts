import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { startSmtpSink } from "../helpers/smtp.ts";

Deno.test("with EMAIL_TRANSPORT=smtp the sign-in link arrives by real SMTP, not in the log", async () => {
  const sink = await startSmtpSink();
  const app = await createTestApp({
    env: {
      EMAIL_TRANSPORT: "smtp",
      SMTP_URL: sink.url,
      EMAIL_FROM: "read.markets <hello@read.markets>",
    },
  });
  try {
    const response = await app.fetch("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "mail@example.com" }),
    });
    assert.equal(response.status, 202);
    assert.equal(sink.messages.length, 1);
    const [mail] = sink.messages;
    assert.match(mail.from, /hello@read\.markets/);
    assert.deepEqual(mail.to.map((to) => to.replace(/[<>]/g, "")), ["mail@example.com"]);
    assert.match(mail.data, /Subject: Your sign-in link for read\.markets/);
    // Undo quoted-printable soft line breaks and the escaped "=".
    const body = mail.data.replaceAll("=\r\n", "").replaceAll("=3D", "=");
    assert.match(body, /http:\/\/localhost:8000\/auth\/verify\?token=[\w-]{43}/);
    assert.equal(app.logs.records("auth.magic_link").length, 0, "the link is not logged");
    assert.ok(!app.logs.lines.join("\n").includes("token="), "no token anywhere in the log");
  } finally {
    await app.close();
    await sink.close();
  }
});

Deno.test("when the mail server is down the request fails visibly and can be retried", async () => {
  const sink = await startSmtpSink();
  const url = sink.url;
  await sink.close();
  const app = await createTestApp({ env: { EMAIL_TRANSPORT: "smtp", SMTP_URL: url } });
  try {
    const response = await app.fetch("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "mail@example.com" }),
    });
    assert.equal(response.status, 503);
    assert.match((await response.json()).message, /could not send the email/);
    assert.equal(app.logs.records("auth.sign_in_link_failed").length, 1);
  } finally {
    await app.close();
  }
});

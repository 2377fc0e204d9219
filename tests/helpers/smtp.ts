/**
 * A real SMTP server for tests (the `smtp-server` library), started by the test, that keeps every
 * message it accepts and parses it (`mailparser`) so a test can read the subject and both parts
 * the app sent. It can refuse the next attempts, as a mail server in trouble would.
 */
// @ts-types="npm:@types/smtp-server@3.5.13"
import { SMTPServer } from "smtp-server";
// @ts-types="npm:@types/mailparser@3.9.0"
import { simpleParser } from "mailparser";
import { waitUntil } from "./bounded.ts";

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as sent, headers and body. */
  data: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  /** Refuse the next `count` messages with a temporary failure (451). */
  refuseNext(count: number): void;
  /** How many messages were refused so far. */
  refused(): number;
  /** Wait (bounded) until `count` messages have been accepted. */
  received(count: number, ms?: number): Promise<ReceivedMail[]>;
  /** The messages sent to `address`. */
  to(address: string): ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let toRefuse = 0;
  let refusedCount = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", async () => {
        if (toRefuse > 0) {
          toRefuse -= 1;
          refusedCount += 1;
          const refusal = Object.assign(new Error("try again later"), { responseCode: 451 });
          return callback(refusal);
        }
        const raw = new TextDecoder().decode(concat(chunks));
        const parsed = await simpleParser(raw);
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: raw,
          subject: parsed.subject ?? "",
          text: parsed.text ?? "",
          html: typeof parsed.html === "string" ? parsed.html : "",
          messageId: parsed.messageId ?? "",
        });
        callback();
      });
    },
  });
  const listening = Promise.withResolvers<void>();
  server.listen(0, "127.0.0.1", () => listening.resolve());
  await listening.promise;
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuseNext(count) {
      toRefuse = count;
    },
    refused: () => refusedCount,
    async received(count, ms = 10_000) {
      await waitUntil(`${count} email(s) to arrive`, () => messages.length >= count, ms);
      return messages.slice(0, count);
    },
    to: (address) => messages.filter((m) => m.to.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return joined;
}

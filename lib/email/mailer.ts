/**
 * Outgoing email. `log` (development) writes each message's subject and links to the log (the
 * sign-in link as `auth.magic_link`, with field `url`); `smtp` sends real mail through
 * nodemailer. Production requires `smtp` (see config).
 */
import type { Transporter } from "nodemailer";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { brand } from "../brand.ts";

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  sendSignInLink(to: string, url: string, validMinutes: number): Promise<void>;
  /** Send one message; resolves with the transport's message id. */
  send(mail: OutgoingMail): Promise<string>;
}

export function createMailer(config: Config, log: Logger): Mailer {
  if (config.email.transport === "log") {
    return {
      sendSignInLink(to, url) {
        log.info("auth.magic_link", { to, url });
        return Promise.resolve();
      },
      send(mail) {
        const messageId = `<${crypto.randomUUID()}@log.${brand.name}>`;
        log.info("email.logged", {
          to: mail.to,
          subject: mail.subject,
          links: [...mail.text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]),
          message_id: messageId,
        });
        return Promise.resolve(messageId);
      },
    };
  }
  // nodemailer is loaded with the first message rather than at start-up: it is the largest module
  // the app loads, and a cold start (a fresh isolate on Deno Deploy) may send no mail at all.
  let transport: Promise<Transporter> | null = null;
  const smtp = () =>
    transport ??= import("nodemailer").then(
      ({ default: nodemailer }) => nodemailer.createTransport(config.email.smtpUrl!),
      (error) => {
        transport = null;
        throw error;
      },
    );
  return {
    async sendSignInLink(to, url, validMinutes) {
      const message = signInMessage(url, validMinutes);
      await (await smtp()).sendMail({ from: config.email.from, to, ...message });
      log.info("auth.sign_in_email_sent", { transport: "smtp" });
    },
    async send(mail) {
      const sent = await (await smtp()).sendMail({ from: config.email.from, ...mail });
      return sent.messageId;
    },
  };
}

export function signInMessage(url: string, validMinutes: number) {
  const subject = `Your sign-in link for ${brand.name}`;
  const text = [
    `Sign in to ${brand.name} by opening this link:`,
    "",
    url,
    "",
    `It works once and expires in ${validMinutes} minutes.`,
    "If you did not ask for it, you can ignore this email.",
  ].join("\n");
  const html = `<p>Sign in to ${brand.name}:</p>` +
    `<p><a href="${escapeHtml(url)}">Sign in</a></p>` +
    `<p>The link works once and expires in ${validMinutes} minutes. ` +
    "If you did not ask for it, you can ignore this email.</p>";
  return { subject, text, html };
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}

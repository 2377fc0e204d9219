/**
 * A minimal SMTP server that accepts every message and keeps it, so tests can read real email
 * sent through the app's SMTP transport (nodemailer) over a real socket.
 */
export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  close(): void;
}

export function startSmtpSink(): SmtpSink {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const messages: ReceivedMail[] = [];
  const connections = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      converse(conn, messages).catch(() => {}).finally(() => connections.delete(conn));
    }
  })().catch(() => {});
  return {
    url: `smtp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    messages,
    close() {
      listener.close();
      for (const conn of connections) conn.close();
    },
  };
}

async function converse(conn: Deno.Conn, messages: ReceivedMail[]) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const reply = (line: string) => conn.write(encoder.encode(`${line}\r\n`));
  let buffer = "";
  let mail: ReceivedMail = { from: "", to: [], data: "" };
  let inData = false;
  await reply("220 sink ESMTP");
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) return;
    buffer += decoder.decode(chunk.subarray(0, n));
    while (true) {
      if (inData) {
        const end = buffer.indexOf("\r\n.\r\n");
        if (end === -1) break;
        mail.data = buffer.slice(0, end).replaceAll("\r\n..", "\r\n.");
        buffer = buffer.slice(end + 5);
        messages.push(mail);
        mail = { from: "", to: [], data: "" };
        inData = false;
        await reply("250 queued");
        continue;
      }
      const eol = buffer.indexOf("\r\n");
      if (eol === -1) break;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO" || verb === "HELO") await reply("250 sink");
      else if (verb === "MAIL") {
        mail.from = line.slice(10).trim();
        await reply("250 ok");
      } else if (verb === "RCPT") {
        mail.to.push(line.slice(8).trim());
        await reply("250 ok");
      } else if (verb === "DATA") {
        inData = true;
        await reply("354 go ahead");
      } else if (verb === "QUIT") {
        await reply("221 bye");
        conn.close();
        return;
      } else await reply("250 ok");
    }
  }
}

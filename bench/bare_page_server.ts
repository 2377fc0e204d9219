/**
 * The limit for page rows: the least a Deno HTTP server can be while answering with the app's
 * own pages — status, headers and bytes recorded from the app, served by path. Run in a process
 * of its own, as the app is. Its argument is the JSON file of recorded answers.
 */
import type { RecordedAnswers } from "./pages.ts";

const recorded: RecordedAnswers = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const answers = new Map(
  Object.entries(recorded).map(([path, answer]) => [
    path,
    { ...answer, body: Uint8Array.from(atob(answer.bodyBase64), (c) => c.charCodeAt(0)) },
  ]),
);

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  (request) => {
    const answer = answers.get(new URL(request.url).pathname);
    if (!answer) return new Response("not recorded", { status: 404 });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  },
);

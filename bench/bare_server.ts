/** The least a Deno HTTP server can be: the cold-start limit the app is measured against. */
Deno.serve(
  { hostname: "0.0.0.0", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  () => new Response("ok"),
);

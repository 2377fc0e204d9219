import { define } from "../lib/state.ts";
import { HttpError } from "../lib/web/mod.ts";

export default define.page(function ErrorPage({ error }) {
  const status = error instanceof HttpError ? error.status : 500;
  const message = error instanceof HttpError
    ? error.message
    : "Something went wrong on our side. Please try again in a moment.";
  return (
    <section class="narrow">
      <p class="muted">Error {status}</p>
      <h1>{status === 404 ? "We couldn't find that page" : message}</h1>
      {status === 404 && <p>The address may be mistyped, or the page may have moved.</p>}
      <p>
        <a class="btn" href="/">Back to the front page</a>
      </p>
    </section>
  );
});

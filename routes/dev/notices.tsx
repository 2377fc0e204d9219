import { define } from "../../lib/state.ts";
import { Head, HttpError, page } from "../../lib/web/mod.ts";
import { NOTICE_KINDS, renderNotice } from "../../lib/notices/templates.ts";
import { SAMPLE_NOTICES } from "../../lib/notices/samples.ts";

/** Every notice rendered with sample data, to read in a browser. Development only. */
export const handler = define.handlers({
  GET(ctx) {
    if (ctx.state.config.appEnv === "production") throw new HttpError(404);
    const notices = NOTICE_KINDS.map((kind) => ({
      kind,
      ...renderNotice(kind, SAMPLE_NOTICES[kind], ctx.state.config.siteUrl),
    }));
    return page({ notices }, { headers: { "cache-control": "no-store" } });
  },
});

export default define.page<typeof handler>(function Notices({ data }) {
  return (
    <section>
      <Head>
        <title>Notices (development)</title>
      </Head>
      <h1>Notices</h1>
      <p class="muted">
        What subscribers are sent, with sample data. This page exists only in development.
      </p>
      {data.notices.map((notice) => (
        <article class="card" id={notice.kind} key={notice.kind}>
          <h2>{notice.kind.replaceAll("_", " ")}</h2>
          <p>
            <strong>Subject:</strong> {notice.subject}
          </p>
          <h3>HTML part</h3>
          <div class="email-preview" dangerouslySetInnerHTML={{ __html: bodyOf(notice.html) }} />
          <h3>Text part</h3>
          <pre class="email-text">{notice.text}</pre>
        </article>
      ))}
    </section>
  );
});

/** The email's body, without its document shell and inline styles (the site's CSP forbids them). */
function bodyOf(html: string): string {
  const body = /<body[^>]*>([\s\S]*)<\/body>/.exec(html)?.[1] ?? html;
  return body.replace(/\sstyle="[^"]*"/g, "");
}

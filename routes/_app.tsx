import { define } from "../lib/define.ts";
import { brand } from "../lib/brand.ts";

export default define.page(function App({ Component, state }) {
  return (
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{brand.name} — {brand.tagline}</title>
        <meta name="description" content={brand.description} />
        <link rel="icon" href={state.asset("/favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={state.asset("/styles.css")} />
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="site-header">
          <div class="container">
            <a class="brand" href="/">{brand.name}</a>
            <nav class="site-nav" aria-label="Main">
              <a href="/referrals">Invite friends</a>
            </nav>
          </div>
        </header>
        <main id="main">
          <div class="container">
            <Component />
          </div>
        </main>
        <footer class="site-footer">
          <div class="container">
            © {brand.name}. Questions?{" "}
            <a href={`mailto:${brand.supportEmail}`}>
              {brand.supportEmail}
            </a>
          </div>
        </footer>
      </body>
    </html>
  );
});

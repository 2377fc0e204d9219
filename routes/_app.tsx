import { define } from "../lib/state.ts";
import { Head } from "../lib/web/mod.ts";
import { brand } from "../lib/brand.ts";
import { SiteHeader } from "../components/SiteHeader.tsx";
import { ReferralBanner } from "../components/ReferralBanner.tsx";
import { PaymentProblemBanner } from "../components/PaymentProblemBanner.tsx";

export default define.layout(function App({ Component, state }) {
  return (
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Head>
          <title>{brand.name} — {brand.tagline}</title>
          <meta name="description" content={brand.description} />
        </Head>
        <link rel="icon" href={state.asset("/favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={state.asset("/styles.css")} />
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        {state.pendingReferral && <ReferralBanner />}
        {state.user && (
          <PaymentProblemBanner user={state.user} graceDays={state.config.pastDueGraceDays} />
        )}
        <SiteHeader user={state.user} />
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

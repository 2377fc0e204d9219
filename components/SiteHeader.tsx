import { brand } from "../lib/brand.ts";
import type { User } from "../lib/auth/users.ts";

/** The top of every page: the brand, the main links, and who is signed in. */
export function SiteHeader(props: { user: User | null }) {
  return (
    <header class="site-header">
      <div class="container">
        <a class="brand" href="/">{brand.name}</a>
        <nav class="site-nav" aria-label="Main">
          <a href="/pricing">Pricing</a>
          <a href="/referrals">Invite friends</a>
          {props.user
            ? (
              <>
                <a href="/settings">Settings</a>
                <span class="who">
                  Signed in as <strong>{props.user.email}</strong>
                </span>
                <form method="post" action="/logout">
                  <button type="submit" class="btn btn-secondary btn-small">Sign out</button>
                </form>
              </>
            )
            : <a href="/login">Sign in</a>}
        </nav>
      </div>
    </header>
  );
}

/** The email form that asks for a sign-in link. A plain form: it works without JavaScript. */
export function SignInForm(props: { next: string; email?: string; error?: string }) {
  return (
    <form method="post" action="/login" class="card" noValidate>
      <input type="hidden" name="next" value={props.next} />
      <div class="field">
        <label for="email">Email address</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="email"
          required
          value={props.email}
          aria-invalid={props.error ? "true" : undefined}
          aria-describedby={props.error ? "email-error" : "email-hint"}
        />
        {props.error
          ? <p id="email-error" class="notice notice-error" role="alert">{props.error}</p>
          : (
            <p id="email-hint" class="hint">
              We'll email you a link that signs you in. No password needed.
            </p>
          )}
      </div>
      <button type="submit" class="btn">Email me a sign-in link</button>
    </form>
  );
}

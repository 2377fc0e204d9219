-- Sign-in links are spent only by the "Continue signing in" page's POST. The browser that asked
-- for a link carries a random nonce cookie; its hash here lets that browser continue by itself,
-- while a link opened anywhere else (another device, a mail scanner, someone else's browser)
-- waits for the person to press the button.
alter table login_tokens add column browser_hash text;

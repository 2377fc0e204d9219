/**
 * The client's IP address. The TCP peer, unless the app is configured to sit behind
 * `trustedProxies` reverse proxies: then the address those proxies appended to
 * `X-Forwarded-For`, counted from the right. Entries further left are written by the client and
 * cannot be trusted.
 */
export function clientIp(req: Request, remoteAddr: string | null, trustedProxies: number): string {
  if (trustedProxies > 0) {
    const hops = (req.headers.get("x-forwarded-for") ?? "").split(",").map((h) => h.trim())
      .filter(Boolean);
    const forwarded = hops[hops.length - trustedProxies];
    if (forwarded) return forwarded;
  }
  return remoteAddr ?? "unknown";
}

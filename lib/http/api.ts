/** The JSON shape of every API answer that is not a success: `{ error, message }`. */

const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  500: "internal_error",
  502: "bad_gateway",
  503: "service_unavailable",
};

/**
 * An error answer. `code` is a stable machine-readable name (e.g. `reg36_waiver_required`);
 * when omitted it is derived from the status.
 */
export function apiError(
  status: number,
  message: string,
  code?: string,
  headers?: HeadersInit,
): Response {
  return Response.json(
    { error: code ?? CODES[status] ?? "error", message },
    { status, headers },
  );
}

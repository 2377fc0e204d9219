/** The JSON shape of every API answer that is not a success: `{ error, message }`. */
import type { z } from "zod";
import { HttpError } from "../web/mod.ts";

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

/**
 * Parse a JSON request body against `schema`. Wrong content type → 415, unparseable JSON or a
 * body that does not fit → 400 with a message naming each problem (thrown as `HttpError`, which
 * API routes answer as `{ error, message }`).
 */
export async function readJsonBody<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, "Send the request body as JSON (Content-Type: application/json)");
  }
  let body: unknown;
  try {
    body = JSON.parse(await req.text());
  } catch {
    throw new HttpError(400, "The request body is not valid JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
  return parsed.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const path = issue.path.join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  }).join("; ");
}

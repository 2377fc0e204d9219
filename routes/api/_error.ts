import { define } from "../../lib/state.ts";
import { apiError } from "../../lib/http/api.ts";
import { ApiError } from "../../lib/http/errors.ts";
import { HttpError } from "../../lib/web/mod.ts";

/** API routes answer errors as JSON `{ error, message }`, never as an HTML page. */
export const handler = define.handlers((ctx) => {
  const error = ctx.error;
  if (error instanceof ApiError) {
    return apiError(error.status, error.message, error.code, error.headers);
  }
  if (error instanceof HttpError) return apiError(error.status, error.message);
  return apiError(500, "Something went wrong on our side; please try again.");
});

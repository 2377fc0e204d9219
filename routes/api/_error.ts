import { define } from "../../lib/define.ts";
import { apiError } from "../../lib/http/api.ts";
import { HttpError } from "../../lib/web/define.ts";

/** API routes answer errors as JSON `{ error, message }`, never as an HTML page. */
export const handler = define.handlers((ctx) => {
  const error = ctx.error;
  if (error instanceof HttpError) return apiError(error.status, error.message, error.code);
  return apiError(500, "Something went wrong on our side; please try again.");
});

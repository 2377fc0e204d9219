/** Every kind of durable job the app runs, and the work each does. */
import type { JobHandler } from "./runner.ts";
import { CANCEL_DUPLICATE_JOB, cancelDuplicateSubscription } from "../billing/duplicates.ts";

export const JOB_HANDLERS: Readonly<Record<string, JobHandler>> = {
  [CANCEL_DUPLICATE_JOB]: cancelDuplicateSubscription,
};

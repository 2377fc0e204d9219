/** Every kind of durable job the app runs, and the work each does. */
import type { JobHandler } from "./runner.ts";
import { CANCEL_DUPLICATE_JOB, cancelDuplicateSubscription } from "../billing/duplicates.ts";
import { SEND_NOTICE_JOB, sendNotice } from "../notices/send.ts";
import {
  MOVE_NEXT_CHARGE_JOB,
  moveNextCharge,
  SYNC_NEXT_CHARGE_JOB,
  syncNextChargeJob,
} from "../billing/next_charge.ts";

export const JOB_HANDLERS: Readonly<Record<string, JobHandler>> = {
  [CANCEL_DUPLICATE_JOB]: cancelDuplicateSubscription,
  [SEND_NOTICE_JOB]: sendNotice,
  [MOVE_NEXT_CHARGE_JOB]: moveNextCharge,
  [SYNC_NEXT_CHARGE_JOB]: syncNextChargeJob,
};

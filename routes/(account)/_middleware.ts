import { requireSignedInPage } from "../../lib/auth/guards.ts";

export const handler = requireSignedInPage;

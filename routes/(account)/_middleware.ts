import { requireSignedInPage } from "../../lib/http/guards.ts";

export const handler = requireSignedInPage;

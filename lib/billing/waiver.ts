/**
 * The Reg-36 waiver (UK Consumer Contracts Regulations, regulation 36): a monthly plan gives
 * access at once, so the buyer must expressly ask for that and acknowledge losing the 14-day
 * right to cancel. The server records who accepted which version of the text, when and from
 * where; change the version whenever the wording changes.
 */
export const REG36_WAIVER = {
  version: "2026-11-reg36-v1",
  text:
    "I want my subscription to start immediately, and I understand that I will lose my 14-day " +
    "right to cancel once my access begins.",
} as const;

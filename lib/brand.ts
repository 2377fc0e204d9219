/** Everything that names the product lives here, so a rebrand is one file. */
export const brand = {
  name: "read.markets",
  tagline: "Financial reading worth your time",
  description:
    "Curated market analysis, long reads and daily briefings for people who invest their own money.",
  supportEmail: "support@read.markets",
} as const;

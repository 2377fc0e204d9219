/** A Markdown table with padded columns: readable in a terminal, pasteable into the README. */

export interface Column {
  title: string;
  align: "left" | "right";
}

export function markdownTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, 3, ...rows.map((row) => row[i].length))
  );
  const pad = (text: string, i: number) =>
    columns[i].align === "right" ? text.padStart(widths[i]) : text.padEnd(widths[i]);
  const line = (cells: string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = columns.map((column, i) =>
    column.align === "right" ? `${"-".repeat(widths[i] - 1)}:` : "-".repeat(widths[i])
  );
  return [line(columns.map((c) => c.title)), `| ${rule.join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

export function formatNumber(value: number, fractionDigits = 0): string {
  return value.toLocaleString("en-GB", {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  });
}

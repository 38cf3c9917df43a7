/**
 * Plain-text tables for the terminal (`elevate status`): columns padded to their widest
 * cell, two spaces apart, no trailing blanks. The first row is the header.
 */
export function textTable(rows: readonly string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

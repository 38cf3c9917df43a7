/**
 * "Did you mean …?" for the CLI: the known name closest to what was typed,
 * by optimal string alignment distance (Damerau–Levenshtein where a
 * transposed pair of neighbours counts as one edit, so `valdiate` is one edit
 * from `validate`). Pure; no I/O.
 */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  // d[i][j]: distance between the first i characters of a and the first j of b.
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const above = d[i - 1] as number[];
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[rows - 1] as number[])[cols - 1] as number;
}

/**
 * The known name closest to `typed`, when it is close enough to be a typo:
 * at most a third of the typed length in edits (at least one, at most three),
 * or `typed` is a prefix of exactly one name (`req` → `request`). Ties go to
 * the name listed first. Case is ignored.
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const input = typed.toLowerCase();
  if (input === "") return undefined;
  const prefixed = known.filter((name) => name.toLowerCase().startsWith(input));
  if (prefixed.length === 1) return prefixed[0];
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(input, name.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

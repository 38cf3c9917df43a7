/**
 * `fn` over `items` with at most `limit` calls in flight; results keep the
 * order of `items`. Used where the work is I/O: runbook executions, file reads,
 * Identity Center listings. (No I/O of its own: only the scheduling.)
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

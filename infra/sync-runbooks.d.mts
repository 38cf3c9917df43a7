/** Types for infra/sync-runbooks.mjs (plain Node so it runs without a build). */
export interface SyncResult {
  /** The template with every marked block replaced by its runbook file. */
  text: string;
  /** Runbook paths whose embedded copy differed. */
  stale: string[];
  /** Runbook paths named by markers, in template order. */
  seen: string[];
}

export function syncTemplate(templateText: string, readRunbook: (path: string) => string): SyncResult;

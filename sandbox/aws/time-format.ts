/** `2026-11-30T09:00:00Z`: the form IAM date conditions and aws:CurrentTime use. */
export function formatIamTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * The fields the revoker reads from a request file (drift, stale request PRs), read
 * leniently: a file that validated at merge may not validate against today's config or
 * clock. Pure.
 */
import { parseDuration } from "./duration.js";
import { parseTimestamp } from "./request.js";
import { parseStrictYaml } from "./strict-yaml.js";
import { truncateToSecond } from "./window.js";

export interface RequestFacts {
  requester?: string;
  role?: string;
  durationMs?: number;
  start?: Date;
}

/**
 * The fields the revoker needs from a request file, read leniently: a file that
 * validated at merge may not validate against today's config or clock, and the
 * revoker only compares windows. Undefined when the file is not a YAML map.
 */
export function readRequestFacts(text: string): RequestFacts | undefined {
  const parsed = parseStrictYaml(text);
  if (!parsed.ok) return undefined;
  const root = parsed.document.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) return undefined;
  const text_ = (key: string): string | undefined => {
    const v = Object.hasOwn(root, key) ? root[key] : undefined;
    return typeof v === "string" ? v : undefined;
  };
  const facts: RequestFacts = {};
  const requester = text_("requester");
  if (requester !== undefined) facts.requester = requester;
  const role = text_("role");
  if (role !== undefined) facts.role = role;
  const duration = text_("duration");
  if (duration !== undefined) {
    const d = parseDuration(duration);
    if (d.ok) facts.durationMs = d.ms;
  }
  const start = text_("start");
  if (start !== undefined) {
    const s = parseTimestamp(start);
    if (s.ok) facts.start = s.date;
  }
  return facts;
}

/**
 * An open request PR is stale when its requested window has already closed:
 * `start + duration` is before `now`. Without `start` the window opens at merge,
 * so the request can never be stale. Returns the closing time when stale.
 */
export function staleRequestEnd(facts: RequestFacts | undefined, now: Date): Date | undefined {
  if (!facts?.start || facts.durationMs === undefined) return undefined;
  const end = new Date(truncateToSecond(facts.start).getTime() + facts.durationMs);
  return now.getTime() > end.getTime() ? end : undefined;
}

/** `elevate-<id>` for a request id: re-exported for the modes' messages. */

/**
 * Where request files live: `requests/<role>/<id>.yaml` (or `.yml`), paths
 * relative to the repository root with `/` separators, as git reports them
 * (docs/request-file.md).
 *
 * The id names the grant everywhere downstream (the inline policy
 * `elevate-<id>`, the SSM ClientToken, the audit log), so it is unique across
 * all of `requests/`, whatever the folder.
 */
import { ROLE_KEY } from "./config.js";

export const REQUESTS_DIR = "requests";

/** docs/request-file.md: `^[a-z0-9][a-z0-9-]{2,62}$`. */
export const REQUEST_ID = /^[a-z0-9][a-z0-9-]{2,62}$/;

export const REQUEST_EXTENSIONS = [".yaml", ".yml"] as const;

/**
 * Request ids starting with this belong to break-glass grants (`breakglass-<run id>`,
 * src/domain/break-glass.ts `BREAK_GLASS_ID_PREFIX`; a test keeps the two equal). A
 * request file may not use it: its grant would share the policy name
 * `elevate-breakglass-<run id>` with a break-glass grant, and the revoker would take
 * one for the other. Declared here, not imported, because break-glass.ts depends on
 * request.ts, which depends on this module.
 */
export const RESERVED_ID_PREFIX = "breakglass-";

export interface RequestPath {
  /** The folder name, which must be the role's catalog key. */
  role: string;
  id: string;
  path: string;
}

export type RequestPathResult = { ok: true; value: RequestPath } | { ok: false; message: string };

/** True for any path under `requests/` (the part of the tree request PRs may change). */
export function isUnderRequests(path: string): boolean {
  return path.startsWith(`${REQUESTS_DIR}/`);
}

/** True for any path git would show under `requests/` ending in .yaml/.yml (a candidate request file). */
export function looksLikeRequestFile(path: string): boolean {
  return path.startsWith(`${REQUESTS_DIR}/`) && REQUEST_EXTENSIONS.some((ext) => path.endsWith(ext));
}

/** Checks a repository-relative path against the request path rules. */
export function parseRequestPath(path: string): RequestPathResult {
  const shown = JSON.stringify(path);
  const expected = `a request file must be ${REQUESTS_DIR}/<role>/<id>.yaml`;
  if (path.includes("\\")) return { ok: false, message: `${shown}: use / in paths; ${expected}` };
  const segments = path.split("/");
  if (segments[0] !== REQUESTS_DIR)
    return { ok: false, message: `${shown} is not under ${REQUESTS_DIR}/; ${expected}` };
  if (segments.length !== 3) {
    return { ok: false, message: `${shown} is not exactly one folder deep in ${REQUESTS_DIR}/; ${expected}` };
  }
  const role = segments[1] as string;
  const fileName = segments[2] as string;
  if (role === "." || role === ".." || !ROLE_KEY.test(role)) {
    return {
      ok: false,
      message: `folder ${JSON.stringify(role)} is not a role key (lower-case letters, digits and hyphens); ${expected}`,
    };
  }
  const extension = REQUEST_EXTENSIONS.find((ext) => fileName.endsWith(ext));
  if (!extension) return { ok: false, message: `${shown} does not end in .yaml or .yml` };
  const id = fileName.slice(0, -extension.length);
  if (!REQUEST_ID.test(id)) {
    const why = /[A-Z]/.test(id)
      ? "upper-case letters are not allowed"
      : id.includes(".")
        ? "dots are not allowed"
        : id.length < 3
          ? "it is shorter than 3 characters"
          : id.length > 63
            ? "it is longer than 63 characters"
            : "use lower-case letters, digits and hyphens, starting with a letter or digit";
    return { ok: false, message: `request id ${JSON.stringify(id)} is invalid: ${why} (pattern ${REQUEST_ID.source})` };
  }
  if (id.startsWith(RESERVED_ID_PREFIX)) {
    return {
      ok: false,
      message: `request id ${JSON.stringify(id)} is invalid: ids starting with "${RESERVED_ID_PREFIX}" are reserved for break-glass grants (docs/break-glass.md); pick another file name`,
    };
  }
  return { ok: true, value: { role, id, path } };
}

/** The id a path would have if it were a request file (the file name without .yaml/.yml). */
export function requestIdOf(path: string): string | undefined {
  const fileName = path.split("/").at(-1) ?? "";
  const extension = REQUEST_EXTENSIONS.find((ext) => fileName.endsWith(ext));
  return extension ? fileName.slice(0, -extension.length) : undefined;
}

/**
 * Request ids used by more than one file. `paths` are all request files under
 * `requests/` (repository-relative). Returns, for each path whose id is shared,
 * the other paths that use the same id. Ids compare exactly; upper-case ids are
 * already refused by `parseRequestPath`.
 */
export function findDuplicateRequestIds(paths: readonly string[]): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  for (const path of new Set(paths)) {
    if (!looksLikeRequestFile(path)) continue;
    const id = requestIdOf(path);
    if (id === undefined) continue;
    const list = byId.get(id) ?? [];
    list.push(path);
    byId.set(id, list);
  }
  const duplicates = new Map<string, string[]>();
  for (const list of byId.values()) {
    if (list.length < 2) continue;
    for (const path of list) duplicates.set(path, list.filter((other) => other !== path).sort());
  }
  return duplicates;
}

/** The one-line message for a path whose id another file also uses. */
export function duplicateIdMessage(path: string, others: readonly string[]): string {
  const id = requestIdOf(path) ?? path;
  return `request id ${JSON.stringify(id)} is also used by ${others.join(", ")}; ids must be unique across ${REQUESTS_DIR}/ — pick another file name`;
}

/**
 * `elevate validate`: checks request files in the working tree against the
 * config, exactly as the PR check and the grant will (README.md "CLI").
 * Also home of the pieces `elevate plan` shares: finding and loading the
 * config, and checking request files including id uniqueness.
 */
import { relative, resolve, sep } from "node:path";
import { blobId, blobIdsAt, defaultBranch } from "../adapters/git.js";
import {
  expandFileArgument,
  findRepoRoot,
  listRequestFiles,
  type ReadResult,
  type RealpathCache,
  readSmallFile,
  repoRelativePath,
} from "../adapters/repo.js";
import { DEFAULT_CONFIG_PATH, type ElevateConfig, loadConfig, MAX_CONFIG_BYTES } from "../domain/config.js";
import { FILE_START, type LocatedError, locatedError } from "../domain/errors.js";
import { mapLimited } from "../domain/map-limited.js";
import { type ValidRequest, validateRequest } from "../domain/request.js";
import {
  duplicateIdMessage,
  findDuplicateRequestIds,
  isUnderRequests,
  looksLikeRequestFile,
  REQUESTS_DIR,
} from "../domain/request-path.js";
import { MAX_YAML_BYTES, oversizeMessage } from "../domain/strict-yaml.js";

export interface Workspace {
  cwd: string;
  /** Repository root (git top-level, or the cwd outside git). */
  root: string;
  inGit: boolean;
}

export async function openWorkspace(cwd: string): Promise<Workspace> {
  const { root, inGit } = await findRepoRoot(cwd);
  return { cwd, root, inGit };
}

/** How a path is shown to the user: relative to the current directory, with `/`, as they would type it. */
function shownPath(workspace: Workspace, absolute: string): string {
  return relative(workspace.cwd, absolute).split(sep).join("/") || ".";
}

export type ConfigLoad = { ok: true; config: ElevateConfig; file: string } | { ok: false; errors: LocatedError[] };

/**
 * Loads the config named by `--config` (relative to the cwd) or, by default,
 * `.github/elevate.yml` at the repository root. Errors name the file as the
 * user would type it from the current directory.
 */
export async function loadWorkspaceConfig(workspace: Workspace, configOption: string | undefined): Promise<ConfigLoad> {
  const absolute = configOption ? resolve(workspace.cwd, configOption) : resolve(workspace.root, DEFAULT_CONFIG_PATH);
  const file = configOption ?? shownPath(workspace, absolute);
  const read = await readSmallFile(absolute, MAX_CONFIG_BYTES);
  if (!read.ok) {
    let message: string;
    if (read.size !== undefined) message = oversizeMessage(read.size, MAX_CONFIG_BYTES);
    else if (configOption) message = `cannot read the config: ${read.message}`;
    else {
      const where = workspace.inGit
        ? `at the repository root ${workspace.root}`
        : `in ${workspace.root} (not inside a git repository, so the current directory stands in for the root)`;
      message = `cannot read the config ${DEFAULT_CONFIG_PATH} ${where}: ${read.message}; run inside the repository or pass --config`;
    }
    return { ok: false, errors: [locatedError(file, FILE_START, message)] };
  }
  const loaded = loadConfig(read.bytes, file);
  if (loaded.errors) return { ok: false, errors: loaded.errors };
  return { ok: true, config: loaded.config, file };
}

export interface RequestFileCheck {
  /** The file as given on the command line. */
  file: string;
  /** Repository-relative path used for the path rules. */
  path: string;
  valid: boolean;
  errors: LocatedError[];
  request?: ValidRequest;
  /** The file could not be read at all (missing, not a regular file): a usage error, not an invalid request. */
  unreadable: boolean;
  /** Something to know that is not an error (e.g. the file is already merged as it is). */
  note?: string;
  /** The bytes checked, for comparing with the default branch. */
  bytes?: Uint8Array;
}

/** A request file given on standard input (`-`), with the path it would live at (`--path`). */
export interface StdinRequest {
  /** Where the file would live, relative to the current directory, as given to `--path`. */
  path: string;
  bytes: Uint8Array;
}

/**
 * Validates each file and checks that its id is not used by any other file
 * under `requests/` (nor by another file in the same run).
 */
/** How many request files are read at once. */
const READ_CONCURRENCY = 32;

async function checkOne(
  workspace: Workspace,
  argument: string,
  config: ElevateConfig,
  author: string | undefined,
  now: Date,
  realpaths: RealpathCache,
  stdin: StdinRequest | undefined,
): Promise<RequestFileCheck> {
  const fromStdin = argument === "-" && stdin !== undefined;
  const file = fromStdin ? stdin.path : argument;
  const [path, read] = await Promise.all([
    repoRelativePath(workspace.root, workspace.cwd, file, realpaths),
    fromStdin
      ? Promise.resolve<ReadResult>(
          stdin.bytes.byteLength > MAX_YAML_BYTES
            ? { ok: false, message: "too large", size: stdin.bytes.byteLength }
            : { ok: true, bytes: stdin.bytes },
        )
      : readSmallFile(resolve(workspace.cwd, file), MAX_YAML_BYTES),
  ]);
  if (!read.ok) {
    const tooLarge = read.size !== undefined;
    const message = tooLarge ? oversizeMessage(read.size as number) : `cannot read ${file}: ${read.message}`;
    return { file, path, valid: false, errors: [locatedError(file, FILE_START, message)], unreadable: !tooLarge };
  }
  const result = validateRequest({ text: read.bytes, path, file, config, author, now });
  const check: RequestFileCheck = {
    file,
    path,
    valid: result.errors.length === 0,
    errors: result.errors,
    unreadable: false,
    bytes: read.bytes,
  };
  if (result.request) check.request = result.request;
  return check;
}

export async function checkRequestFiles(input: {
  workspace: Workspace;
  config: ElevateConfig;
  files: readonly string[];
  author?: string | undefined;
  now: Date;
  /** What `-` among `files` stands for. */
  stdin?: StdinRequest | undefined;
}): Promise<RequestFileCheck[]> {
  const { workspace, config, author, now, stdin } = input;
  // Reads overlap (bounded), checks run as each read lands; results keep the
  // order of `files`. Thousands of files validate in about a second.
  const realpaths: RealpathCache = new Map();
  const checks = await mapLimited(input.files, READ_CONCURRENCY, (file) =>
    checkOne(workspace, file, config, author, now, realpaths, stdin),
  );

  const onDisk = await listRequestFiles(workspace.root);
  const duplicates = findDuplicateRequestIds([...onDisk, ...checks.filter((c) => !c.unreadable).map((c) => c.path)]);
  for (const check of checks) {
    const others = duplicates.get(check.path);
    if (!others || check.unreadable) continue;
    check.errors = [locatedError(check.file, FILE_START, duplicateIdMessage(check.path, others)), ...check.errors];
    check.valid = false;
    delete check.request;
  }
  if (workspace.inGit) await compareWithDefaultBranch(workspace, checks);
  return checks;
}

/**
 * Only added request files grant. A file that already exists on the default
 * branch either is that merged request, unchanged (a note: merging it again
 * grants nothing), or an edit of it (an error, as the pull request check
 * reports it: edits grant nothing). Compares blob ids, so one `git ls-tree`
 * covers any number of files.
 */
async function compareWithDefaultBranch(workspace: Workspace, checks: RequestFileCheck[]): Promise<void> {
  const candidates = checks.filter((c) => !c.unreadable && c.bytes && isUnderRequests(c.path));
  if (candidates.length === 0) return;
  const base = await defaultBranch(workspace.root);
  if (base === undefined) return;
  let merged: Map<string, string>;
  try {
    merged = await blobIdsAt(workspace.root, base, REQUESTS_DIR);
  } catch {
    return;
  }
  for (const check of candidates) {
    const mergedBlob = merged.get(check.path);
    if (mergedBlob === undefined) continue;
    const ours = blobId(check.bytes as Uint8Array, mergedBlob.length === 64 ? "sha256" : "sha1");
    if (ours === mergedBlob) {
      check.note = `already merged on ${base} as it is: it was granted (or refused) at that merge, and merging it again grants nothing`;
    } else {
      check.errors = [
        locatedError(
          check.file,
          FILE_START,
          `edits the request already merged on ${base}: edits grant nothing; to change access, delete this request (that revokes it) and add a new file with a new id`,
        ),
        ...check.errors,
      ];
      check.valid = false;
      delete check.request;
    }
  }
}

export type ValidateOutcome =
  | { status: "config-error"; errors: LocatedError[] }
  | {
      status: "checked";
      results: RequestFileCheck[];
      emptyDirectories: string[];
      /** The config the files were checked against. */
      config: ElevateConfig;
    };

export interface ValidateInput {
  cwd: string;
  config?: string | undefined;
  author?: string | undefined;
  now: Date;
  /** FILE arguments: files, directories (searched recursively for .yaml/.yml) or `-` for `stdin`. */
  files: readonly string[];
  stdin?: StdinRequest | undefined;
}

export async function runValidate(input: ValidateInput): Promise<ValidateOutcome> {
  const workspace = await openWorkspace(input.cwd);
  const loaded = await loadWorkspaceConfig(workspace, input.config);
  if (!loaded.ok) return { status: "config-error", errors: loaded.errors };
  // A directory stands for the request files under it: only paths the PR check would treat as
  // request files (under requests/, .yaml/.yml), so `validate .` skips the config and workflows.
  const realpaths: RealpathCache = new Map();
  const expanded = await Promise.all(
    input.files.map(async (argument) => {
      const found = argument === "-" ? ["-"] : await expandFileArgument(input.cwd, argument);
      if (found.length === 1 && found[0] === argument) return { argument, files: found };
      const paths = await Promise.all(
        found.map((file) => repoRelativePath(workspace.root, input.cwd, file, realpaths)),
      );
      return { argument, files: found.filter((_, i) => looksLikeRequestFile(paths[i] as string)) };
    }),
  );
  const emptyDirectories = expanded.filter((e) => e.files.length === 0).map((e) => e.argument);
  const files = expanded.flatMap((e) => e.files);
  const results = await checkRequestFiles({
    workspace,
    config: loaded.config,
    files,
    author: input.author,
    now: input.now,
    stdin: input.stdin,
  });
  return { status: "checked", results, emptyDirectories, config: loaded.config };
}

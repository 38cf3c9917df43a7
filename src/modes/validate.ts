/**
 * `elevate validate`: checks request files in the working tree against the
 * config, exactly as the PR check and the grant will (README.md "CLI").
 * Also home of the pieces `elevate plan` shares: finding and loading the
 * config, and checking request files including id uniqueness.
 */
import { relative, resolve, sep } from "node:path";
import {
  findRepoRoot,
  listRequestFiles,
  type RealpathCache,
  readSmallFile,
  repoRelativePath,
} from "../adapters/repo.js";
import { DEFAULT_CONFIG_PATH, type ElevateConfig, loadConfig, MAX_CONFIG_BYTES } from "../domain/config.js";
import { FILE_START, type LocatedError, locatedError } from "../domain/errors.js";
import { type ValidRequest, validateRequest } from "../domain/request.js";
import { duplicateIdMessage, findDuplicateRequestIds } from "../domain/request-path.js";
import { MAX_YAML_BYTES, oversizeMessage } from "../domain/strict-yaml.js";
import { mapLimited } from "./map-limited.js";

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
}

/**
 * Validates each file and checks that its id is not used by any other file
 * under `requests/` (nor by another file in the same run).
 */
/** How many request files are read at once. */
const READ_CONCURRENCY = 32;

async function checkOne(
  workspace: Workspace,
  file: string,
  config: ElevateConfig,
  author: string | undefined,
  now: Date,
  realpaths: RealpathCache,
): Promise<RequestFileCheck> {
  const [path, read] = await Promise.all([
    repoRelativePath(workspace.root, workspace.cwd, file, realpaths),
    readSmallFile(resolve(workspace.cwd, file), MAX_YAML_BYTES),
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
}): Promise<RequestFileCheck[]> {
  const { workspace, config, author, now } = input;
  // Reads overlap (bounded), checks run as each read lands; results keep the
  // order of `files`. Thousands of files validate in about a second.
  const realpaths: RealpathCache = new Map();
  const checks = await mapLimited(input.files, READ_CONCURRENCY, (file) =>
    checkOne(workspace, file, config, author, now, realpaths),
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
  return checks;
}

export type ValidateOutcome =
  | { status: "config-error"; errors: LocatedError[] }
  | { status: "checked"; results: RequestFileCheck[] };

export interface ValidateInput {
  cwd: string;
  config?: string | undefined;
  author?: string | undefined;
  now: Date;
  files: readonly string[];
}

export async function runValidate(input: ValidateInput): Promise<ValidateOutcome> {
  const workspace = await openWorkspace(input.cwd);
  const loaded = await loadWorkspaceConfig(workspace, input.config);
  if (!loaded.ok) return { status: "config-error", errors: loaded.errors };
  const results = await checkRequestFiles({
    workspace,
    config: loaded.config,
    files: input.files,
    author: input.author,
    now: input.now,
  });
  return { status: "checked", results };
}

/**
 * What every action mode does first: read the config from the checkout and
 * turn its problems into annotations at the file, line and column.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as core from "@actions/core";
import { type ElevateConfig, loadConfig } from "../domain/config.js";
import type { LocatedError } from "../domain/errors.js";
import type { ActionContext } from "./action-context.js";

/** Problems as error annotations at file, line and column. */
export function annotate(errors: readonly LocatedError[]): void {
  for (const e of errors) {
    core.error(e.message, { file: e.file, startLine: e.line, startColumn: e.col, title: "Elevate" });
  }
}

/**
 * The config at `inputs.config` in the workspace, read as bytes (so invalid
 * UTF-8 is reported, not replaced). `consequence` ends the error message:
 * "nothing was granted", "nothing was revoked".
 */
export async function loadActionConfig(
  ctx: Pick<ActionContext, "inputs" | "workspace">,
  consequence: string,
): Promise<ElevateConfig> {
  const path = ctx.inputs.configPath;
  let bytes: Buffer;
  try {
    bytes = await readFile(join(ctx.workspace, path));
  } catch {
    throw new Error(
      `cannot read the config ${path}; is the repository checked out (actions/checkout) and the 'config' input right?`,
    );
  }
  const loaded = loadConfig(bytes, path);
  if (loaded.errors) {
    annotate(loaded.errors);
    throw new Error(`the config ${path} is invalid (${loaded.errors.length} error(s), annotated); ${consequence}`);
  }
  return loaded.config;
}

/**
 * `elevate demo`: runs sandbox/demo.ts from the Elevate source checkout. The
 * sandbox is never bundled into the CLI (it carries the test-only, AGPL
 * iam-simulate), so the demo needs the checkout's dev dependencies: `npm ci`.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CommandContext, CommandOutcome } from "./command-io.js";

/** The checkout root: the bundle is action/dist/cli/index.js, the source src/modes/demo.ts. */
function findCheckoutRoot(start: string): string | undefined {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "sandbox", "demo.ts")) && existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Runs `elevate demo`: `ok` every step passed, `problems` a step failed, `failed` it could not start. */
export async function runDemo(context: Pick<CommandContext, "stderr">): Promise<CommandOutcome> {
  const root = findCheckoutRoot(dirname(fileURLToPath(import.meta.url)));
  const tsx = root ? resolve(root, "node_modules", ".bin", "tsx") : undefined;
  if (!root || !tsx || !existsSync(tsx)) {
    context.stderr.write(
      "elevate demo: needs the Elevate source checkout with dev dependencies: clone it, run `npm ci`, then `npx elevate demo` there\n",
    );
    return "failed";
  }
  return new Promise<CommandOutcome>((done) => {
    const child = spawn(tsx, [join(root, "sandbox", "demo.ts")], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    child.on("error", (error) => {
      context.stderr.write(`elevate demo: could not start: ${error.message}\n`);
      done("failed");
    });
    child.on("close", (code) => done(code === 0 ? "ok" : "problems"));
  });
}

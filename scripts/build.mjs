// Builds the two committed bundles with ncc: the action (action/dist/index.js)
// and the CLI (action/dist/cli/index.js, the package's `bin`). Both are committed
// so that `uses: ./action` and `npx elevate` work right after `npm ci`.
import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";

const entries = [
  { entry: "src/action/index.ts", out: "action/dist" },
  { entry: "src/cli/index.ts", out: "action/dist/cli" },
];

rmSync("action/dist", { recursive: true, force: true });
for (const { entry, out } of entries) {
  // --minify keeps the bundle small and the cold start short (see bench/).
  // No source maps or license files: the bundle must be byte-for-byte reproducible.
  // ncc type-checks with src/tsconfig.json (product code only); `npm run typecheck` checks everything.
  execFileSync("npx", ["ncc", "build", entry, "-o", out, "--minify", "--target", "es2022", "--quiet"], {
    stdio: "inherit",
  });
}
chmodSync("action/dist/cli/index.js", 0o755);

import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // @actions/* are ESM-only and read GITHUB_* at import: inline them so each
    // test file gets a fresh module graph with its own environment.
    server: { deps: { inline: [/@actions\//] } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Vitest's default is cores - 1 (a single worker on a 2-core CI machine), but
    // the end-to-end files spend most of their time waiting on child processes,
    // git and loopback HTTP, so more workers than cores shortens the run.
    maxWorkers: Math.max(3, availableParallelism() + 1),
  },
});

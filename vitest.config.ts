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
  },
});

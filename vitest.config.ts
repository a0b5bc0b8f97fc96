import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Most test time is waiting (HTTP to the emulator, the database, child processes), so on a 2-core machine four
    // files at once keep both cores busy (measured: wall 560 s → 240 s on PostgreSQL) without starving the tests
    // that wait for real time.
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})

import { defineConfig } from "vitest/config";

/**
 * `npm run test:adversarial`: the large adversarial corpus against the real local server (the
 * e2e suite's global setup starts it). Not part of `npm test`: it sends >= 10,000 requests.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/adversarial.large.test.ts"],
    environment: "node",
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});

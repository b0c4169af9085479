/**
 * The `token-vault` bin (package.json `bin`, built to dist/cli/token-vault.js by
 * scripts/build-client.mjs). It talks to the server only through `token-vault/client`.
 */
import { processIo } from "./io";
import { main } from "./program";

process.exitCode = await main(process.argv.slice(2), processIo());

#!/usr/bin/env node
// A stand-in for the wrangler CLI in scripts/cf-setup.mjs's tests: answers `d1 list --json`,
// `d1 create` and `queues create` with the text wrangler 4.86 prints (no network), and appends
// each call to FAKE_WRANGLER_LOG. FAKE_D1_LIST: the JSON `d1 list` prints; FAKE_EXISTING_QUEUES:
// comma-separated queues that already exist; FAKE_D1_ID: the id a created database gets.
import { appendFileSync } from "node:fs";

const args = process.argv.slice(2);
if (process.env.FAKE_WRANGLER_LOG) appendFileSync(process.env.FAKE_WRANGLER_LOG, args.join(" ") + "\n");
const id = process.env.FAKE_D1_ID ?? "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const [group, command, name] = args;

if (group === "d1" && command === "list") {
  console.log(process.env.FAKE_D1_LIST ?? "[]");
} else if (group === "d1" && command === "create") {
  console.log(`
 ⛅️ wrangler 4.86.0
───────────────────
✅ Successfully created DB '${name}' in region WEUR
Created your new D1 database.

To access your new D1 Database in your Worker, add the following snippet to your configuration file:
[[d1_databases]]
binding = "${name.replace(/-/g, "_")}"
database_name = "${name}"
database_id = "${id}"`);
} else if (group === "queues" && command === "create") {
  if ((process.env.FAKE_EXISTING_QUEUES ?? "").split(",").includes(name)) {
    console.error(`✘ [ERROR] A request to the Cloudflare API (/accounts/x/queues) failed.\n\n  Queue name already taken [code: 11009]`);
    process.exit(1);
  }
  console.log(`🌀 Creating queue '${name}'\n✅ Created queue '${name}'.`);
} else {
  console.error(`fake wrangler: unexpected call: ${args.join(" ")}`);
  process.exit(2);
}

// Line filter for `wrangler dev`'s output under `npm run dev`: drops what is noise offline and
// keeps everything else untouched (errors included). Dropped:
//  - the `Request.cf` warning (wrangler fetches it from workers.cloudflare.com; offline it falls
//    back to a placeholder) and the stack trace of its cause: replaced by one line, once;
//  - wrangler's own request lines (`[wrangler:info] GET /path 200 OK (3ms)`), which repeat the
//    Worker's JSON request log line;
//  - "Your types might be out of date": wrangler compares worker-configuration.d.ts with a hash
//    that includes .dev.vars, which `npm run cf-typegen` leaves out on purpose (local secrets are
//    not bindings); a test checks the file against wrangler.toml instead.

// eslint-disable-next-line no-control-regex -- ANSI colour codes
const ANSI = /\u001b\[[0-9;]*m/g;
const CF_WARNING = /Unable to fetch the `Request\.cf` object/;
const TYPES_HINT = /Your types might be out of date/;
const REQUEST_LINE = /^\[wrangler:info\] (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+ \d{3}\b/;
export const CF_NOTE = "[dev] offline: wrangler could not fetch Request.cf from workers.cloudflare.com and uses a placeholder (harmless)";

/** `emit(line)` receives each kept line, without its newline. */
export function createLineFilter(emit) {
  let pending = "";
  let inCfTrace = false;
  let cfNoted = false;
  const handle = (line) => {
    const plain = line.replace(ANSI, "");
    if (inCfTrace) {
      // The cause's message, then its "    at ..." frames; anything else ends the trace.
      if (/^\s+at\s/.test(plain) || /^(\w*Error|Caused by):/.test(plain)) return;
      inCfTrace = false;
    }
    if (CF_WARNING.test(plain)) {
      inCfTrace = true;
      if (!cfNoted) emit(CF_NOTE);
      cfNoted = true;
      return;
    }
    if (REQUEST_LINE.test(plain) || TYPES_HINT.test(plain)) return;
    emit(line);
  };
  return {
    push(chunk) {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) handle(line);
    },
    end() {
      if (pending) handle(pending);
      pending = "";
    },
  };
}

// The local HTTP target of `npm run bench`, run as a child process (its own event loop, so the
// load generator in the parent does not slow it down). Answers 200 at once.
//   GET|POST /ok          200 {"ok":true}, nothing recorded (its own ceiling is measured on this)
//   ANY      /hit/<tag>   200 {"ok":true}, records <tag> and the arrival time (epoch ms, sub-ms)
// IPC: the parent sends "report" (answered with {hits: [[tag, at], ...]}) and "reset".
import { createServer } from "node:http";

let hits = [];
const OK = Buffer.from('{"ok":true}');

const server = createServer((req, res) => {
  const at = performance.timeOrigin + performance.now();
  if (req.url?.startsWith("/hit/")) hits.push([req.url.slice(5), at]);
  // Drain the body, then answer.
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": OK.length });
    res.end(OK);
  });
});
server.keepAliveTimeout = 30_000;

process.on("message", (message) => {
  if (message === "report") process.send({ hits });
  else if (message === "reset") hits = [];
});
process.on("disconnect", () => server.close(() => process.exit(0)));

server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));

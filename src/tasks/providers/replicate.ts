import type { Provider } from "./config";

export const replicate: Provider = {
  name: "replicate",
  description:
    "Replicate predictions API: submit to https://api.replicate.com/v1/predictions, poll urls.get until status is succeeded, failed, canceled or aborted. Output is in `output`, failures in `error`. Auth header: `Authorization: Bearer tok_...`.",
  hosts: ["api.replicate.com"],
  // The prediction document is its own status and result: no separate result fetch.
  pollConfig: {
    urlTemplate: "{startResult.body.urls.get}",
    interval: 2,
    statusPath: "status",
    doneValues: ["succeeded"],
    failValues: ["failed", "canceled", "aborted"],
    resultPath: "output",
    errorPath: "error",
    forwardAuth: true,
    maxDuration: 3600,
  },
};

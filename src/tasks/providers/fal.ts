import type { Provider } from "./config";

export const fal: Provider = {
  name: "fal",
  description:
    "fal.ai queue API: submit to https://queue.fal.run/<model>, poll status_url (IN_QUEUE, IN_PROGRESS, COMPLETED), then fetch response_url. A failed request shows up as an error status on that result fetch. Auth header: `Authorization: Key tok_...`.",
  hosts: ["queue.fal.run", "fal.run"],
  pollConfig: {
    urlTemplate: "{startResult.body.status_url}",
    interval: 2,
    statusPath: "status",
    doneValues: ["COMPLETED"],
    failValues: [],
    resultUrlTemplate: "{startResult.body.response_url}",
    errorPath: "detail",
    forwardAuth: true,
    maxDuration: 3600,
  },
  // fal reports a failed request as an error status on the result fetch, marked with this header.
  isJobFailure: (answer) => Boolean(answer.headers["x-fal-error-type"]),
};

import { z } from "zod";
import { defineRoute } from "../http/route";
import { portalSessionUser } from "../oauth/browser-user";
import { CALLBACK_PATH, COMPLETE_PATH, completeConnect, type Completion } from "../oauth/connect";
import { renderCompletePage } from "../oauth/complete-page";

/** Short, printable query values: the provider's words are shown, never trusted. */
const text = (max: number) => z.string().max(2048).transform((v) => v.slice(0, max)).optional();

const CallbackQuery = z.object({ code: text(2048), state: text(512), error: text(64), error_description: text(300) });
const CompleteQuery = z.object({ status: z.enum(["success", "error"]).optional(), key: text(100), error: text(64), description: text(300) });

function completionUrl(origin: string, done: Completion): string {
  const url = new URL(COMPLETE_PATH, origin);
  url.searchParams.set("status", done.status);
  if (done.key) url.searchParams.set("key", done.key);
  if (done.status === "error") {
    url.searchParams.set("error", done.error);
    if (done.description) url.searchParams.set("description", done.description);
  }
  return url.toString();
}

/** The browser side of the OAuth connect flow (no API credentials: the state is the capability). */
export const oauthBrowserRoutes = [
  defineRoute({
    method: "GET",
    path: CALLBACK_PATH,
    tag: "OAuth",
    summary: "The OAuth redirect URI: uses the state once, exchanges the code, stores the tokens, then redirects to the completion page",
    auth: "none",
    query: CallbackQuery,
    responses: {
      303: { description: "To /oauth/complete with status=success or status=error (and the error)", headers: { Location: { description: "The completion page", schema: { type: "string" } } } },
    },
    handler: async ({ ctx, request, url, query }) => {
      const done = await completeConnect(ctx.env, query, await portalSessionUser(request), ctx.requestId);
      return new Response(null, { status: 303, headers: { location: completionUrl(url.origin, done), "cache-control": "no-store", "referrer-policy": "no-referrer" } });
    },
  }),
  defineRoute({
    method: "GET",
    path: COMPLETE_PATH,
    tag: "OAuth",
    summary: "The completion page of the connect flow (HTML): says success or the error",
    auth: "none",
    query: CompleteQuery,
    responses: { 200: { description: "An HTML page (strict CSP, escaped output)" } },
    handler: ({ query }) => renderCompletePage(query),
  }),
];

import type { Route } from "./app";
import { activityRoutes } from "./pages/activity";
import { authRoutes } from "./pages/auth";
import { keyRoutes } from "./pages/keys";
import { proposalRoutes } from "./pages/proposals";
import { vaultRoutes } from "./pages/vault";

/**
 * Every portal page, in one table. Pages of later features (services, proposals and their
 * approval page, OAuth) add their module's routes here; `portalUserFromRequest` (session.ts)
 * and the `SignedInRequest` they receive give them the user, the team context and the CSRF token.
 */
export const portalRoutes: Route[] = [...authRoutes, ...vaultRoutes, ...keyRoutes, ...activityRoutes, ...proposalRoutes];

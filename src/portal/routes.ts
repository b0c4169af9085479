import type { Route } from "./app";
import { activityRoutes } from "./pages/activity";
import { authRoutes } from "./pages/auth";
import { keyRoutes } from "./pages/keys";
import { logRoutes } from "./pages/logs";
import { oauthRoutes } from "./pages/oauth";
import { serviceRoutes } from "./pages/services";
import { vaultKeyRoutes } from "./pages/vault-keys";
import { proposalRoutes } from "./pages/proposals";
import { vaultRoutes } from "./pages/vault";

/**
 * Every portal page, in one table. Pages of later features (services, proposals and their
 * approval page, OAuth) add their module's routes here; `portalUserFromRequest` (session.ts)
 * and the `SignedInRequest` they receive give them the user, the team context and the CSRF token.
 */
// vaultKeyRoutes and oauthRoutes go before vaultRoutes: `/portal/vault/:id` would take `/portal/vault/keys`.
export const portalRoutes: Route[] = [...authRoutes, ...vaultKeyRoutes, ...oauthRoutes, ...vaultRoutes, ...keyRoutes, ...serviceRoutes, ...logRoutes, ...activityRoutes, ...proposalRoutes];

import type { AnyRoute } from "../http/route";
import { accountRoutes } from "./accounts";
import { adminRoutes } from "./admin";
import { auditRoutes } from "./audit";
import { metaRoutes } from "./meta";
import { taskRoutes } from "./tasks";
import { tokenRoutes } from "./tokens";
import { secretRoutes } from "./secrets";
import { credentialRoutes } from "./credentials";
import { webhookRoutes } from "./webhooks";
import { oauthBrowserRoutes, oauthVaultRoutes } from "./oauth";
import { vaultRoutes } from "./vaults";
import { proposalRoutes } from "./proposals";

/** Every route the Worker serves, in one table (the router and the OpenAPI document read it). */
export const routes: AnyRoute[] = [...metaRoutes(() => routes), ...tokenRoutes, ...secretRoutes, ...credentialRoutes, ...vaultRoutes, ...oauthVaultRoutes, ...proposalRoutes, ...taskRoutes, ...webhookRoutes, ...auditRoutes, ...accountRoutes, ...adminRoutes, ...oauthBrowserRoutes];

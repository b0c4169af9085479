import type { AnyRoute } from "../http/route";
import { adminRoutes } from "./admin";
import { auditRoutes } from "./audit";
import { metaRoutes } from "./meta";
import { tokenRoutes } from "./tokens";

/** Every route the Worker serves, in one table (the router and the OpenAPI document read it). */
export const routes: AnyRoute[] = [...metaRoutes(() => routes), ...tokenRoutes, ...auditRoutes, ...adminRoutes];

import type { Scope } from "./auth/scopes";
import type { Env } from "./env";
import { newId } from "./ids";
import type { Plan } from "./plans";
import type { Role } from "./teams/roles";

/** An API key's role: a standard key, or an agent key (issue 11). */
export type ApiKeyRole = "standard" | "agent";

/**
 * The one request context: who acts (the actor), for which team, with which scopes, under
 * which request id. The http layer builds it once per request after authentication; the queue
 * builds one per task step (`taskContext`). Every domain operation takes it first:
 * `operation(ctx, ...inputs)`.
 *
 * The actor is a tagged union: a new kind of caller (an agent key with a proxy role, say) is a
 * new member here, and `switch (ctx.actor.type)` shows every place that must decide about it.
 */
export type Actor =
  | { type: "anonymous" }
  /** `role` agent: the gateway's agent key (uses the proxy, never reads a value; see RouteSpec.reveals). */
  | { type: "api_key"; id: string; role: ApiKeyRole }
  | { type: "user"; id: string; email: string }
  | { type: "admin"; id: "admin" }
  | { type: "task"; id: string; apiKeyId: string }
  /** The Worker itself, on a schedule: the sweeper (expiries, version retirements) and the retention purge. */
  | { type: "system"; id: "sweeper" | "retention" | "oauth" };

/** Actors that have an identity (everything but anonymous): the ones audit rows name. */
export type KnownActor = Exclude<Actor, { type: "anonymous" }>;
export type ActorOf<T extends Actor["type"]> = Extract<Actor, { type: T }>;

export const ADMIN_ACTOR: ActorOf<"admin"> = { type: "admin", id: "admin" };
export const SWEEPER_ACTOR: ActorOf<"system"> = { type: "system", id: "sweeper" };
export const SYSTEM_RETENTION_ACTOR: ActorOf<"system"> = { type: "system", id: "retention" };
/** An OAuth credential's proactive refresh (its Durable Object's alarm, src/oauth/refresher.ts). */
export const OAUTH_REFRESH_ACTOR: ActorOf<"system"> = { type: "system", id: "oauth" };

/** The team the request acts for, when known: its id and the salt of its vault keys. */
export interface ContextTeam {
  id: string;
  /** HKDF salt of the team's vault keys (base64; not secret on its own). */
  keySalt: string;
  /** Known when the team row was loaded whole (API-key requests); a task step carries none. */
  plan?: Plan;
}

export interface Context {
  readonly requestId: string;
  readonly actor: Actor;
  readonly team: ContextTeam | undefined;
  /** API-key scopes; other actors are authorised by other rules (roles, the operator token). */
  readonly scopes: readonly Scope[];
  /** API-key scope labels (named secrets with labels are revealed only to keys carrying them). */
  readonly keyLabels: readonly string[];
  /** The caller's address as Cloudflare reports it (never a client-supplied forwarding header). */
  readonly clientAddress: string | undefined;
  readonly env: Env;
  /** Work that may finish after the response (never needed for correctness). */
  readonly exec: Pick<ExecutionContext, "waitUntil">;
}

/** A context whose actor has an identity (what audit rows need). */
export type IdentifiedContext = Context & { readonly actor: KnownActor };
/** A context acting for a team, with an identified actor. */
export type TeamContext = IdentifiedContext & { readonly team: ContextTeam };
/** An API-key request: the team is loaded whole (its plan is known). */
export type ApiKeyContext = TeamContext & { readonly actor: ActorOf<"api_key">; readonly team: ContextTeam & { plan: Plan } };
export type UserContext = Context & { readonly actor: ActorOf<"user"> };
/** A request to a view that both API keys and users call (named secrets): a team is always chosen. */
export type KeyOrUserContext = TeamContext & { readonly actor: ActorOf<"api_key"> | ActorOf<"user"> };
/**
 * A request to a vault route (/v1/vaults/:vault/...): the vault is the team, resolved from the
 * path and checked against the caller (http/app.ts). A user carries their role in it.
 */
export type VaultContext = TeamContext & {
  readonly actor: ActorOf<"api_key"> | ActorOf<"user">;
  readonly team: ContextTeam & { plan: Plan; slug: string };
  /** The member's role (user sessions); undefined for API keys (their scopes apply). */
  readonly vaultRole: Role | undefined;
};
export type AdminContext = Context & { readonly actor: ActorOf<"admin"> };

export function createContext<A extends Actor, T extends ContextTeam | undefined = undefined>(fields: {
  requestId: string;
  actor: A;
  env: Env;
  team?: T;
  scopes?: readonly Scope[];
  keyLabels?: readonly string[];
  clientAddress?: string | undefined;
  exec?: Pick<ExecutionContext, "waitUntil">;
}): Context & { readonly actor: A; readonly team: T } {
  return {
    requestId: fields.requestId,
    actor: fields.actor,
    team: fields.team as T,
    scopes: fields.scopes ?? [],
    keyLabels: fields.keyLabels ?? [],
    clientAddress: fields.clientAddress,
    env: fields.env,
    exec: fields.exec ?? detachedExec,
  };
}

/** Outside a request (queue, cron) nothing waits for background work: it runs unattended. */
const detachedExec: Pick<ExecutionContext, "waitUntil"> = {
  waitUntil: (promise) => {
    promise.catch(() => undefined);
  },
};

/**
 * The context of a task's step, for the queue consumer: the task acts for its team, on behalf
 * of the API key that created it, under a fresh request id.
 */
export function taskContext(
  env: Env,
  task: { id: string; apiKeyId: string; team: ContextTeam },
  requestId: string = newId.request(),
): TeamContext & { readonly actor: ActorOf<"task"> } {
  return createContext({ env, requestId, actor: { type: "task" as const, id: task.id, apiKeyId: task.apiKeyId }, team: task.team });
}

/** The vault's key material of the context's team. */
export const teamKeyMaterial = (team: ContextTeam) => ({ teamId: team.id, salt: team.keySalt });

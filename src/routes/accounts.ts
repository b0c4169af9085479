import { z } from "zod";
import { ALL_SCOPES } from "../auth/scopes";
import { login, logout, signup } from "../auth/sessions";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../auth/passwords";
import { Errors, json } from "../http/errors";
import { defineRoute } from "../http/route";
import { isoDate } from "../http/schemas";
import { ID_BODY } from "../ids";
import { acceptInvitation, addMember, cancelInvitation, changeRole, listMembers, myTeams, removeMember, requireRole, ROLES, teamForMember } from "../teams/members";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from "../teams/teams";
import { ApiKey, Team } from "./admin";

export const Email = z.email().max(254);
export const Password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
export const SignupBody = z.strictObject({ email: Email, password: Password, teamName: z.string().trim().min(1).max(100) });
export const LoginBody = z.strictObject({ email: z.string().min(1).max(254), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });
export const TeamIdParams = z.object({ teamId: z.string().regex(new RegExp(`^team_${ID_BODY}$`), "must be a team id (team_...)") });
export const MemberParams = TeamIdParams.extend({ userId: z.string().regex(new RegExp(`^usr_${ID_BODY}$`), "must be a user id (usr_...)") });
export const InvitationParams = TeamIdParams.extend({ invitationId: z.string().regex(new RegExp(`^inv_${ID_BODY}$`), "must be an invitation id (inv_...)") });
export const KeyParams = z.object({ keyId: z.string().regex(new RegExp(`^key_${ID_BODY}$`), "must be an API key id (key_...)") });
export const AddMemberBody = z.strictObject({ email: Email, role: z.enum(ROLES).default("member") });
export const ChangeRoleBody = z.strictObject({ role: z.enum(ROLES) });
export const AcceptBody = z.strictObject({ token: z.string().min(1).max(200) });
export const CreateKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(ALL_SCOPES)).min(1).max(ALL_SCOPES.length).optional().describe("Defaults to all scopes"),
});

const User = z.object({ id: z.string(), email: z.string(), createdAt: isoDate }).meta({ id: "User" });
const Member = z.object({ userId: z.string(), email: z.string(), role: z.enum(ROLES), createdAt: isoDate }).meta({ id: "Member" });
const Invitation = z.object({ id: z.string(), email: z.string(), role: z.enum(ROLES), createdAt: isoDate, expiresAt: isoDate }).meta({ id: "Invitation" });
const MyTeam = Team.extend({ role: z.enum(ROLES) });
export const SignupResponse = z.object({ user: User, team: Team, token: z.string().describe("Session JWT (HS256, 1 hour)") });
export type SignupResponse = z.infer<typeof SignupResponse>;

export const accountRoutes = [
  defineRoute({
    method: "POST",
    path: "/auth/signup",
    tag: "Accounts",
    summary: "Create a user, a Free team and the owner membership; returns a session token",
    auth: "none",
    body: SignupBody,
    responses: { 201: { description: "Signed up", schema: SignupResponse }, 409: { description: "Email already registered" } },
    handler: async ({ env, request, body, requestId }) => json(await signup(env, request, body, requestId), 201),
  }),
  defineRoute({
    method: "POST",
    path: "/auth/login",
    tag: "Accounts",
    summary: "Exchange email and password for a session token (rate limited per email and per client address)",
    auth: "none",
    body: LoginBody,
    responses: { 200: { description: "Session token", schema: z.object({ token: z.string() }) }, 401: { description: '{"error":"Invalid email or password"}' } },
    handler: async ({ env, exec, request, body, requestId }) => json(await login(env, exec, request, body, requestId)),
  }),
  defineRoute({
    method: "POST",
    path: "/auth/logout",
    tag: "Accounts",
    summary: "End every session of the user (all earlier tokens are refused)",
    auth: "user",
    responses: { 200: { description: "Logged out", schema: z.object({ loggedOut: z.literal(true) }) } },
    handler: async ({ env, auth }) => {
      await logout(env, auth);
      return json({ loggedOut: true });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/teams",
    tag: "Teams",
    summary: "The teams I belong to, with my role",
    auth: "user",
    responses: { 200: { description: "Teams", schema: z.object({ teams: z.array(MyTeam) }) } },
    handler: async ({ env, auth }) => json({ teams: await myTeams(env.DB, auth.userId) }),
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId",
    tag: "Teams",
    summary: "A team I belong to",
    auth: "user",
    params: TeamIdParams,
    responses: { 200: { description: "The team", schema: z.object({ team: MyTeam }) } },
    handler: async ({ env, auth, params }) => json({ team: await teamForMember(env.DB, params.teamId, auth.userId) }),
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId/members",
    tag: "Teams",
    summary: "Members and pending invitations",
    auth: "user",
    params: TeamIdParams,
    responses: { 200: { description: "Members", schema: z.object({ members: z.array(Member), invitations: z.array(Invitation) }) } },
    handler: async ({ env, auth, params }) => json(await listMembers(env.DB, params.teamId, auth.userId)),
  }),
  defineRoute({
    method: "POST",
    path: "/teams/:teamId/members",
    tag: "Teams",
    summary: "Add a member by email (owner/admin); an email without an account gets an invitation with a one-time accept token",
    auth: "user",
    params: TeamIdParams,
    body: AddMemberBody,
    responses: {
      201: {
        description: "Added, or invited",
        schema: z.union([z.object({ member: Member }), z.object({ invitation: Invitation, acceptToken: z.string().describe("Shown only here") })]),
      },
    },
    handler: async ({ env, auth, params, body, requestId }) => json(await addMember({ db: env.DB, user: auth, requestId }, params.teamId, body.email, body.role), 201),
  }),
  defineRoute({
    method: "PATCH",
    path: "/teams/:teamId/members/:userId",
    tag: "Teams",
    summary: "Change a member's role (owner/admin; only owners touch the owner role; the last owner stays)",
    auth: "user",
    params: MemberParams,
    body: ChangeRoleBody,
    responses: { 200: { description: "Changed", schema: z.object({ member: Member }) } },
    handler: async ({ env, auth, params, body, requestId }) => json(await changeRole({ db: env.DB, user: auth, requestId }, params.teamId, params.userId, body.role)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/teams/:teamId/members/:userId",
    tag: "Teams",
    summary: "Remove a member, or leave (the last owner cannot be removed)",
    auth: "user",
    params: MemberParams,
    responses: { 200: { description: "Removed", schema: z.object({ member: Member }) } },
    handler: async ({ env, auth, params, requestId }) => json(await removeMember({ db: env.DB, user: auth, requestId }, params.teamId, params.userId)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/teams/:teamId/invitations/:invitationId",
    tag: "Teams",
    summary: "Withdraw a pending invitation (owner/admin); its seat frees at once",
    auth: "user",
    params: InvitationParams,
    responses: { 200: { description: "Withdrawn", schema: z.object({ cancelled: z.literal(true) }) } },
    handler: async ({ env, auth, params, requestId }) => json(await cancelInvitation({ db: env.DB, user: auth, requestId }, params.teamId, params.invitationId)),
  }),
  defineRoute({
    method: "POST",
    path: "/invitations/accept",
    tag: "Teams",
    summary: "Accept an invitation sent to my email",
    auth: "user",
    body: AcceptBody,
    responses: { 200: { description: "Joined", schema: z.object({ team: MyTeam }) } },
    handler: async ({ env, auth, body, requestId }) => json(await acceptInvitation({ db: env.DB, user: auth, requestId }, body.token)),
  }),
  defineRoute({
    method: "POST",
    path: "/teams/:teamId/apikeys",
    tag: "API keys",
    summary: "Create an API key (owner/admin), within the plan's key limit; the full key is returned only here",
    auth: "user",
    params: TeamIdParams,
    body: CreateKeyBody,
    responses: { 201: { description: "Created", schema: z.object({ apiKey: ApiKey, key: z.string() }) } },
    handler: async ({ env, auth, params, body, requestId }) => {
      await requireRole(env.DB, params.teamId, auth.userId, "admin");
      const created = await createApiKey(env, { actor: { type: "user", id: auth.userId }, requestId }, params.teamId, body.name, body.scopes ?? ALL_SCOPES, auth.userId);
      return json(created, 201);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId/apikeys",
    tag: "API keys",
    summary: "The team's API keys (metadata only)",
    auth: "user",
    params: TeamIdParams,
    responses: { 200: { description: "API keys", schema: z.object({ apiKeys: z.array(ApiKey) }) } },
    handler: async ({ env, auth, params }) => {
      await requireRole(env.DB, params.teamId, auth.userId, "member");
      return json({ apiKeys: await listApiKeys(env.DB, params.teamId) });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/apikeys/:keyId/revoke",
    tag: "API keys",
    summary: "Revoke an API key (owner/admin of its team); refused from the next request on",
    auth: "user",
    params: KeyParams,
    responses: { 200: { description: "Revoked", schema: z.object({ apiKey: ApiKey }) } },
    handler: async ({ env, auth, params, requestId }) => {
      const key = await getApiKey(env.DB, params.keyId);
      // An unknown key and another team's key look the same to the caller.
      if (!key) throw Errors.accessDenied();
      await requireRole(env.DB, key.team_id, auth.userId, "admin");
      return json({ apiKey: await revokeApiKey(env, { actor: { type: "user", id: auth.userId }, requestId }, params.keyId) });
    },
  }),
];

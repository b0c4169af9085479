import { z } from "zod";
import { ALL_SCOPES, DEFAULT_SCOPES } from "../auth/scopes";
import { login, logout, signup } from "../auth/sessions";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../auth/passwords";
import { AppError } from "../errors";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { idParam, isoDate } from "../http/schemas";
import { acceptInvitation, addMember, cancelInvitation, changeRole, listMembers, myTeams, removeMember, requireRole, ROLES, teamForMember } from "../teams/members";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from "../teams/teams";
import { ApiKey, ApiKeyParams, Team, TeamParams } from "./schemas";

export const Email = z.email().max(254);
export const Password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
export const SignupBody = z.strictObject({ email: Email, password: Password, teamName: z.string().trim().min(1).max(100) });
export const LoginBody = z.strictObject({ email: z.string().min(1).max(254), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });
export const MemberParams = TeamParams.extend({ userId: idParam("usr") });
export const InvitationParams = TeamParams.extend({ invitationId: idParam("inv") });
export const AddMemberBody = z.strictObject({ email: Email, role: z.enum(ROLES).default("member") });
export const ChangeRoleBody = z.strictObject({ role: z.enum(ROLES) });
export const AcceptBody = z.strictObject({ token: z.string().min(1).max(200) });
export const CreateKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(ALL_SCOPES)).min(1).max(ALL_SCOPES.length).optional().describe("Defaults to every scope but secrets:reveal, which must be asked for"),
  labels: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, "labels are lowercase letters, digits and _.:- (at most 64)")).max(20).optional().describe("Scope labels (e.g. [\"payments\"]) for named secrets with a scope"),
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
    responses: { 201: { description: "Signed up", schema: SignupResponse } },
    errors: ["too_many_attempts", "email_taken", "not_configured"],
    handler: async ({ ctx, body }) => json(await signup(ctx, body), 201),
  }),
  defineRoute({
    method: "POST",
    path: "/auth/login",
    tag: "Accounts",
    summary: "Exchange email and password for a session token (rate limited per email and per client address)",
    auth: "none",
    body: LoginBody,
    responses: { 200: { description: "Session token", schema: z.object({ token: z.string() }) } },
    errors: ["too_many_attempts", "invalid_credentials", "not_configured"],
    handler: async ({ ctx, body }) => json(await login(ctx, body)),
  }),
  defineRoute({
    method: "POST",
    path: "/auth/logout",
    tag: "Accounts",
    summary: "End every session of the user (all earlier tokens are refused)",
    auth: "user",
    responses: { 200: { description: "Logged out", schema: z.object({ loggedOut: z.literal(true) }) } },
    handler: async ({ ctx }) => {
      await logout(ctx);
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
    handler: async ({ ctx }) => json({ teams: await myTeams(ctx) }),
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId",
    tag: "Teams",
    summary: "A team I belong to",
    auth: "user",
    params: TeamParams,
    responses: { 200: { description: "The team", schema: z.object({ team: MyTeam }) } },
    errors: ["access_denied", "not_found"],
    handler: async ({ ctx, params }) => json({ team: await teamForMember(ctx, params.teamId) }),
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId/members",
    tag: "Teams",
    summary: "Members and pending invitations",
    auth: "user",
    params: TeamParams,
    responses: { 200: { description: "Members", schema: z.object({ members: z.array(Member), invitations: z.array(Invitation) }) } },
    errors: ["access_denied"],
    handler: async ({ ctx, params }) => json(await listMembers(ctx, params.teamId)),
  }),
  defineRoute({
    method: "POST",
    path: "/teams/:teamId/members",
    tag: "Teams",
    summary: "Add a member by email (owner/admin); an email without an account gets an invitation with a one-time accept token",
    auth: "user",
    params: TeamParams,
    body: AddMemberBody,
    responses: {
      201: {
        description: "Added, or invited",
        schema: z.union([z.object({ member: Member }), z.object({ invitation: Invitation, acceptToken: z.string().describe("Shown only here") })]),
      },
    },
    errors: ["access_denied", "insufficient_role", "not_found", "already_member", "invitation_pending", "plan_limit_reached"],
    handler: async ({ ctx, params, body }) => json(await addMember(ctx, params.teamId, body.email, body.role), 201),
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
    errors: ["access_denied", "insufficient_role", "not_found", "last_owner"],
    handler: async ({ ctx, params, body }) => json(await changeRole(ctx, params.teamId, params.userId, body.role)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/teams/:teamId/members/:userId",
    tag: "Teams",
    summary: "Remove a member, or leave (the last owner cannot be removed)",
    auth: "user",
    params: MemberParams,
    responses: { 200: { description: "Removed", schema: z.object({ member: Member }) } },
    errors: ["access_denied", "insufficient_role", "not_found", "last_owner"],
    handler: async ({ ctx, params }) => json(await removeMember(ctx, params.teamId, params.userId)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/teams/:teamId/invitations/:invitationId",
    tag: "Teams",
    summary: "Withdraw a pending invitation (owner/admin); its seat frees at once",
    auth: "user",
    params: InvitationParams,
    responses: { 200: { description: "Withdrawn", schema: z.object({ cancelled: z.literal(true) }) } },
    errors: ["access_denied", "insufficient_role", "not_found"],
    handler: async ({ ctx, params }) => json(await cancelInvitation(ctx, params.teamId, params.invitationId)),
  }),
  defineRoute({
    method: "POST",
    path: "/invitations/accept",
    tag: "Teams",
    summary: "Accept an invitation sent to my email",
    auth: "user",
    body: AcceptBody,
    responses: { 200: { description: "Joined", schema: z.object({ team: MyTeam }) } },
    errors: ["not_found", "access_denied"],
    handler: async ({ ctx, body }) => json(await acceptInvitation(ctx, body.token)),
  }),
  defineRoute({
    method: "POST",
    path: "/teams/:teamId/apikeys",
    tag: "API keys",
    summary: "Create an API key (owner/admin), within the plan's key limit; the full key is returned only here",
    auth: "user",
    params: TeamParams,
    body: CreateKeyBody,
    responses: { 201: { description: "Created", schema: z.object({ apiKey: ApiKey, key: z.string() }) } },
    errors: ["access_denied", "insufficient_role", "not_found", "plan_limit_reached"],
    handler: async ({ ctx, params, body }) => {
      await requireRole(ctx, params.teamId, "admin");
      return json(await createApiKey(ctx, params.teamId, body.name, body.scopes ?? DEFAULT_SCOPES, body.labels ?? []), 201);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId/apikeys",
    tag: "API keys",
    summary: "The team's API keys (metadata only)",
    auth: "user",
    params: TeamParams,
    responses: { 200: { description: "API keys", schema: z.object({ apiKeys: z.array(ApiKey) }) } },
    errors: ["access_denied"],
    handler: async ({ ctx, params }) => {
      await requireRole(ctx, params.teamId, "member");
      return json({ apiKeys: await listApiKeys(ctx, params.teamId) });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/apikeys/:keyId/revoke",
    tag: "API keys",
    summary: "Revoke an API key (owner/admin of its team); refused from the next request on",
    auth: "user",
    params: ApiKeyParams,
    responses: { 200: { description: "Revoked", schema: z.object({ apiKey: ApiKey }) } },
    errors: ["access_denied", "insufficient_role", "not_found"],
    handler: async ({ ctx, params }) => {
      const key = await getApiKey(ctx, params.keyId);
      // An unknown key and another team's key look the same to the caller.
      if (!key) throw new AppError("access_denied");
      await requireRole(ctx, key.team_id, "admin");
      return json({ apiKey: await revokeApiKey(ctx, params.keyId) });
    },
  }),
];

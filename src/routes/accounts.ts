import {
  AcceptBody,
  AddMemberBody,
  AddMemberResponse,
  ApiKeyList,
  ApiKeyParams,
  ApiKeyResponse,
  CancelledInvitation,
  ChangeRoleBody,
  CreatedKey,
  CreateKeyBody,
  InvitationParams,
  LoginBody,
  LoginResponse,
  LogoutResponse,
  MemberList,
  MemberParams,
  MemberResponse,
  MyTeamList,
  MyTeamResponse,
  SignupBody,
  SignupResponse,
  TeamParams,
} from "../api/accounts";
import { login, logout, signup } from "../auth/sessions";
import { AppError } from "../errors";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { acceptInvitation, addMember, cancelInvitation, changeRole, listMembers, myTeams, removeMember, requireRole, teamForMember } from "../teams/members";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, scopesForRole } from "../teams/teams";

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
    responses: { 200: { description: "Session token", schema: LoginResponse } },
    errors: ["too_many_attempts", "invalid_credentials", "not_configured"],
    handler: async ({ ctx, body }) => json(await login(ctx, body)),
  }),
  defineRoute({
    method: "POST",
    path: "/auth/logout",
    tag: "Accounts",
    summary: "End every session of the user (all earlier tokens are refused)",
    auth: "user",
    responses: { 200: { description: "Logged out", schema: LogoutResponse } },
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
    responses: { 200: { description: "Teams", schema: MyTeamList } },
    handler: async ({ ctx }) => json({ teams: await myTeams(ctx) }),
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId",
    tag: "Teams",
    summary: "A team I belong to",
    auth: "user",
    params: TeamParams,
    responses: { 200: { description: "The team", schema: MyTeamResponse } },
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
    responses: { 200: { description: "Members", schema: MemberList } },
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
        schema: AddMemberResponse,
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
    responses: { 200: { description: "Changed", schema: MemberResponse } },
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
    responses: { 200: { description: "Removed", schema: MemberResponse } },
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
    responses: { 200: { description: "Withdrawn", schema: CancelledInvitation } },
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
    responses: { 200: { description: "Joined", schema: MyTeamResponse } },
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
    responses: { 201: { description: "Created", schema: CreatedKey } },
    errors: ["access_denied", "insufficient_role", "not_found", "plan_limit_reached"],
    handler: async ({ ctx, params, body }) => {
      await requireRole(ctx, params.teamId, "admin");
      const role = body.role ?? "standard";
      return json(await createApiKey(ctx, params.teamId, body.name, scopesForRole(role, body.scopes), body.labels ?? [], { role }), 201);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/teams/:teamId/apikeys",
    tag: "API keys",
    summary: "The team's API keys (metadata only)",
    auth: "user",
    params: TeamParams,
    responses: { 200: { description: "API keys", schema: ApiKeyList } },
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
    responses: { 200: { description: "Revoked", schema: ApiKeyResponse } },
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

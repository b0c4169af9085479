import { z } from "zod";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../auth/password-rules";
import { ALL_SCOPES } from "../auth/scopes";
import { PLAN_NAMES } from "../plans";
import { ROLES } from "../teams/roles";
import { idParam, isoDate } from "./common";

/** Schemas of the accounts API (seed 002: sign-up, sessions, teams, members, API keys) and of the operator API's shared shapes. */

export const Team = z
  .object({ id: z.string(), name: z.string(), plan: z.enum(PLAN_NAMES), slug: z.string().optional().describe("The team's vault slug (/v1/vaults/:vault)"), createdAt: isoDate })
  .meta({ id: "Team" });

export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("Non-secret display prefix of the key"),
    scopes: z.array(z.enum(ALL_SCOPES)),
    labels: z.array(z.string()).describe("Scope labels: named secrets with labels are revealed only to keys carrying them all"),
    createdAt: isoDate,
    lastUsedAt: isoDate.nullable().optional(),
    revokedAt: isoDate.nullable().optional(),
    role: z.enum(["standard", "agent"]).optional().describe("agent: uses the proxy, lists KEYs and services, never reads a value"),
    expiresAt: isoDate.nullable().optional().describe("When the key stops working (agent tokens); null: never"),
  })
  .meta({ id: "ApiKey" });

export const TeamParams = z.object({ teamId: idParam("team") });
export const ApiKeyParams = z.object({ keyId: idParam("key") });

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
  labels: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, "labels are lowercase letters, digits and _.:- (at most 64)"))
    .max(20)
    .optional()
    .describe('Scope labels (e.g. ["payments"]) for named secrets with a scope'),
  role: z.enum(["standard", "agent"]).optional().describe("agent: the key gets the agent scopes (proxy:use, vault:read, proposals:write) and can never read a value"),
});

export const User = z.object({ id: z.string(), email: z.string(), createdAt: isoDate }).meta({ id: "User" });
export const Member = z.object({ userId: z.string(), email: z.string(), role: z.enum(ROLES), createdAt: isoDate }).meta({ id: "Member" });
export const Invitation = z.object({ id: z.string(), email: z.string(), role: z.enum(ROLES), createdAt: isoDate, expiresAt: isoDate }).meta({ id: "Invitation" });
export const MyTeam = Team.extend({ role: z.enum(ROLES) });
export const SignupResponse = z.object({ user: User, team: Team, token: z.string().describe("Session JWT (HS256, 1 hour)") });
export type SignupResponse = z.infer<typeof SignupResponse>;

export const LoginResponse = z.object({ token: z.string() });
export const LogoutResponse = z.object({ loggedOut: z.literal(true) });
export const MyTeamList = z.object({ teams: z.array(MyTeam) });
export const MyTeamResponse = z.object({ team: MyTeam });
export const MemberList = z.object({ members: z.array(Member), invitations: z.array(Invitation) });
export const MemberResponse = z.object({ member: Member });
export const AddMemberResponse = z.union([z.object({ member: Member }), z.object({ invitation: Invitation, acceptToken: z.string().describe("Shown only here") })]);
export const CancelledInvitation = z.object({ cancelled: z.literal(true) });
export const CreatedKey = z.object({ apiKey: ApiKey, key: z.string() });
export const ApiKeyList = z.object({ apiKeys: z.array(ApiKey) });
export const ApiKeyResponse = z.object({ apiKey: ApiKey });

import type { z } from "zod";
import type {
  AddMemberBody,
  AddMemberResponse,
  ApiKey as ApiKeySchema,
  CreatedKey as CreatedKeySchema,
  CreateKeyBody,
  Invitation as InvitationSchema,
  LoginBody,
  Member as MemberSchema,
  MemberList as MemberListSchema,
  MyTeam as MyTeamSchema,
  SignupBody,
  SignupResponse,
} from "../api/accounts";
import type { Role } from "../teams/roles";
import { seg, type Transport } from "./http";

export type SignupInput = z.input<typeof SignupBody>;
export type Signup = z.output<typeof SignupResponse>;
export type LoginInput = z.input<typeof LoginBody>;
export type MyTeam = z.output<typeof MyTeamSchema>;
export type Member = z.output<typeof MemberSchema>;
export type Invitation = z.output<typeof InvitationSchema>;
export type MemberList = z.output<typeof MemberListSchema>;
export type AddMemberInput = z.input<typeof AddMemberBody>;
export type AddedMember = z.output<typeof AddMemberResponse>;
export type ApiKey = z.output<typeof ApiKeySchema>;
export type CreateKeyInput = z.input<typeof CreateKeyBody>;
/** The new key's metadata and the full key (`key`), shown only here. */
export type CreatedKey = z.output<typeof CreatedKeySchema>;
export type { Role };

/** /auth: accounts and sessions (seed 002). The session token then goes in `sessionToken`. */
export class Auth {
  constructor(private readonly http: Transport) {}

  async signup(input: SignupInput): Promise<Signup> {
    return (await this.http.request<Signup>("POST", "/auth/signup", { auth: "none", body: input })).data;
  }

  /** A session token (JWT, 1 hour): `vault.with({ sessionToken: token })`. */
  async login(input: LoginInput): Promise<{ token: string }> {
    return (await this.http.request<{ token: string }>("POST", "/auth/login", { auth: "none", body: input })).data;
  }

  /** Ends every session of the user. */
  async logout(): Promise<void> {
    await this.http.request("POST", "/auth/logout", { auth: "session" });
  }
}

/** /teams and /invitations: the teams of the signed-in user (session token). */
export class Teams {
  constructor(private readonly http: Transport) {}

  async list(): Promise<MyTeam[]> {
    return (await this.http.request<{ teams: MyTeam[] }>("GET", "/teams", { auth: "session" })).data.teams;
  }

  async get(teamId: string): Promise<MyTeam> {
    return (await this.http.request<{ team: MyTeam }>("GET", `/teams/${seg(teamId)}`, { auth: "session" })).data.team;
  }

  /** Members and pending invitations. */
  async members(teamId: string): Promise<MemberList> {
    return (await this.http.request<MemberList>("GET", `/teams/${seg(teamId)}/members`, { auth: "session" })).data;
  }

  /** Adds a user by email, or invites an email without an account (`acceptToken` shown only here). */
  async addMember(teamId: string, input: AddMemberInput): Promise<AddedMember> {
    return (await this.http.request<AddedMember>("POST", `/teams/${seg(teamId)}/members`, { auth: "session", body: input })).data;
  }

  async changeRole(teamId: string, userId: string, role: Role): Promise<Member> {
    return (await this.http.request<{ member: Member }>("PATCH", `/teams/${seg(teamId)}/members/${seg(userId)}`, { auth: "session", body: { role } })).data.member;
  }

  async removeMember(teamId: string, userId: string): Promise<Member> {
    return (await this.http.request<{ member: Member }>("DELETE", `/teams/${seg(teamId)}/members/${seg(userId)}`, { auth: "session" })).data.member;
  }

  async cancelInvitation(teamId: string, invitationId: string): Promise<void> {
    await this.http.request("DELETE", `/teams/${seg(teamId)}/invitations/${seg(invitationId)}`, { auth: "session" });
  }

  async acceptInvitation(token: string): Promise<MyTeam> {
    return (await this.http.request<{ team: MyTeam }>("POST", "/invitations/accept", { auth: "session", body: { token } })).data.team;
  }
}

/** A team's API keys (session token; owners and admins create and revoke). */
export class Keys {
  constructor(private readonly http: Transport) {}

  async create(teamId: string, input: CreateKeyInput): Promise<CreatedKey> {
    return (await this.http.request<CreatedKey>("POST", `/teams/${seg(teamId)}/apikeys`, { auth: "session", body: input })).data;
  }

  async list(teamId: string): Promise<ApiKey[]> {
    return (await this.http.request<{ apiKeys: ApiKey[] }>("GET", `/teams/${seg(teamId)}/apikeys`, { auth: "session" })).data.apiKeys;
  }

  async revoke(keyId: string): Promise<ApiKey> {
    return (await this.http.request<{ apiKey: ApiKey }>("POST", `/apikeys/${seg(keyId)}/revoke`, { auth: "session" })).data.apiKey;
  }
}

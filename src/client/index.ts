/**
 * `token-vault/client`: the typed client for Node 20+ and Workers. Request and response types
 * are inferred from the routes' own zod schemas (src/api/), so client and server cannot drift.
 */
export { Vault } from "./vault";
export { VaultError, CLIENT_ERROR_CODES, type ClientErrorCode, type VaultErrorCode, type ValidationIssue } from "./errors";
export type { FetchInit, FetchLike, FetchResponse, VaultOptions } from "./http";
export type { PageInfo, PageOptions } from "./pages";
export type { CreateTokenInput, Token, TokenList, Tokens } from "./tokens";
export type { CreateTaskInput, CreateTaskOptions, Task, TaskDetail, TaskList, TaskListQuery, TaskStatus, Tasks, WaitOptions } from "./tasks";
export type { Audit, AuditEntry, AuditList, AuditListQuery } from "./audit";
export type { WebhookSecret, Webhooks } from "./webhooks";
export type { Provider, Providers } from "./providers";
export type { SecretAction, SecretAssignment, SecretSummary, SecretUpsert, SecretValue, Secrets, UpsertSecretInput } from "./secrets";
export type { CreateCredentialInput, Credential, CredentialListQuery, Credentials, RotateCredentialInput, RotatedCredential, UpdateCredentialInput } from "./credentials";
export type { ConnectedOAuth, ConnectOAuthInput, OAuth, OAuthStatus, PasteOAuthInput } from "./oauth";
export type {
  CreatedAgentToken,
  CreatedCliKey,
  MintAgentTokenInput,
  MintCliKeyInput,
  ProxyLogEntry,
  ProxyLogList,
  ProxyLogQuery,
  Service,
  ServiceInput,
  UpdateVaultInput,
  VaultCredential,
  VaultCredentials,
  VaultInfo,
  Vaults,
  VaultServices,
} from "./vaults";
export type { CreatedProposal, Proposal, ProposalInput, ProposalReview, ProposalStatus, Proposals } from "./proposals";
export type { CreateLeaseInput, IssuedLease, Lease, LeaseListQuery, Leases, RenewLeaseInput } from "./leases";
export type {
  AddedMember,
  AddMemberInput,
  ApiKey,
  Auth,
  CreatedKey,
  CreateKeyInput,
  Invitation,
  Keys,
  LoginInput,
  Member,
  MemberList,
  MyTeam,
  Role,
  Signup,
  SignupInput,
  Teams,
} from "./accounts";

import type { z } from "zod";
import type { AuditEntry as AuditEntrySchema, AuditList as AuditListSchema, AuditQuery } from "../api/audit";
import type { Transport } from "./http";
import { iteratePages } from "./pages";

export type AuditEntry = z.output<typeof AuditEntrySchema>;
export type AuditList = z.output<typeof AuditListSchema>;
/** `action`, `targetId` filters and paging. */
export type AuditListQuery = Partial<z.output<typeof AuditQuery>>;

/** /v1/audit: the team's audit trail, newest first. */
export class Audit {
  constructor(private readonly http: Transport) {}

  async list(query: AuditListQuery = {}): Promise<AuditList> {
    return (await this.http.request<AuditList>("GET", "/v1/audit", { auth: "apiKey", query })).data;
  }

  iterate(query: Omit<AuditListQuery, "cursor" | "offset"> = {}): AsyncGenerator<AuditEntry, void, undefined> {
    return iteratePages(async (q: AuditListQuery) => {
      const page = await this.list(q);
      return { items: page.entries, pagination: page.pagination };
    }, query);
  }
}

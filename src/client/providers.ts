import type { Provider as ProviderSpec } from "../tasks/providers/config";
import type { Transport } from "./http";

/** A provider template as GET /v1/providers serves it (function members do not serialize). */
export type Provider = Omit<ProviderSpec, "isJobFailure">;

/** /v1/providers: the built-in polling templates (no authentication). */
export class Providers {
  constructor(private readonly http: Transport) {}

  async list(): Promise<Provider[]> {
    return (await this.http.request<{ providers: Provider[] }>("GET", "/v1/providers", { auth: "none" })).data.providers;
  }
}

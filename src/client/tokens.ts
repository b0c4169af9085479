import type { z } from "zod";
import type { CreateTokenBody, Token as TokenSchema, TokenList as TokenListSchema } from "../api/tokens";
import { seg, type Transport } from "./http";
import { iteratePages, type PageOptions } from "./pages";

export type Token = z.output<typeof TokenSchema>;
export type TokenList = z.output<typeof TokenListSchema>;
export type CreateTokenInput = z.input<typeof CreateTokenBody>;

/** /v1/tokens (seed 000): store a value once, reference it as `tok_...`; values are never returned. */
export class Tokens {
  constructor(private readonly http: Transport) {}

  async create(input: CreateTokenInput): Promise<Token> {
    return (await this.http.request<{ token: Token }>("POST", "/v1/tokens", { auth: "apiKey", body: input })).data.token;
  }

  async list(query: PageOptions = {}): Promise<TokenList> {
    return (await this.http.request<TokenList>("GET", "/v1/tokens", { auth: "apiKey", query })).data;
  }

  /** Every active token, newest first, page by page. */
  iterate(query: Omit<PageOptions, "cursor" | "offset"> = {}): AsyncGenerator<Token, void, undefined> {
    return iteratePages(async (q: PageOptions) => {
      const page = await this.list(q);
      return { items: page.tokens, pagination: page.pagination };
    }, query);
  }

  async get(id: string): Promise<Token> {
    return (await this.http.request<{ token: Token }>("GET", `/v1/tokens/${seg(id)}`, { auth: "apiKey" })).data.token;
  }

  async revoke(id: string): Promise<Token> {
    return (await this.http.request<{ token: Token }>("DELETE", `/v1/tokens/${seg(id)}`, { auth: "apiKey" })).data.token;
  }
}

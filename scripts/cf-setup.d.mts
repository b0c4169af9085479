/** Types of cf-setup.mjs for the TypeScript tests. */
export declare const PLACEHOLDER_ID: string;
export declare function resourcesOf(toml: string, env: string | undefined): { databaseName: string; databaseId: string | undefined; queues: string[] };
export declare function withDatabaseId(toml: string, env: string | undefined, id: string): string;
export declare function databaseIdFromCreate(output: string): string;
export declare function databaseIdFromList(output: string, name: string): string | undefined;

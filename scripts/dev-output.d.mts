/** Types of dev-output.mjs for the TypeScript tests. */
export declare const CF_NOTE: string;
export declare function createLineFilter(emit: (line: string) => void): { push(chunk: Buffer | string): void; end(): void };

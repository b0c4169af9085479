import type { TestProject } from "vitest/node";
import { startUpstream } from "./upstream";

declare module "vitest" {
  export interface ProvidedContext {
    upstreamPort: number;
  }
}

/** Starts the fake third-party APIs for the workers project; the Worker reaches them on loopback. */
export default async function setup({ provide }: TestProject) {
  const upstream = await startUpstream();
  provide("upstreamPort", upstream.port);
  return () => upstream.close();
}

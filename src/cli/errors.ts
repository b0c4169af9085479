/**
 * The CLI's own failures. `UsageError` (exit 2): the command line or the local setup is wrong
 * (missing argument, not logged in, no vault chosen); nothing was sent. API answers are the
 * client's `VaultError`s (exit 1). Messages never quote a value the user passed: it may be a
 * secret.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const EXIT_OK = 0;
export const EXIT_API = 1;
export const EXIT_USAGE = 2;

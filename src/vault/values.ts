/**
 * What a credential value may contain, by the way it is used. One place, so every view of the
 * store (tokens today; named secrets and credentials later) refuses the same values with the
 * same words, and the outbound side checks the same rule again before anything is sent.
 *
 * - In an HTTP header (every tok_ reference is resolved into a header value): printable ASCII
 *   per RFC 9110 `field-value`: visible characters (VCHAR, 0x21-0x7E) with spaces
 *   allowed inside, no leading or trailing whitespace. RFC 9110 also allows HTAB inside and
 *   obs-text (0x80-0xFF); both are refused: no real credential needs them, a tab is a control
 *   character in logs, and bytes above 0x7E are read as Latin-1 by one side and UTF-8 by the
 *   other (the runtime warns with the whole value in its log, and echoes come back altered, so
 *   redaction cannot find them). Leading or trailing whitespace would be trimmed on the wire,
 *   so the target would get a different value than the one stored.
 */
export const HEADER_VALUE_RULE = "value must be printable ASCII (RFC 9110 header field value): visible characters and inner spaces, no leading or trailing whitespace";

const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** True when `value` may be stored for use in an HTTP header. */
export function isHeaderSafeValue(value: string): boolean {
  return HEADER_SAFE.test(value);
}

/**
 * The same characters, named in the 400 for a task's header values at creation (the fixed text
 * around tok_ references): a value the runtime cannot send is refused before it is stored,
 * rather than accepted and failed at execution.
 */
export const SENDABLE_HEADER_VALUE_RULE = "header values must be printable ASCII (RFC 9110 header field value): visible characters, spaces and tabs";

/**
 * The check made on a whole header value just before it is sent (defence in depth for values
 * stored before the rule existed, and for the fixed text around a reference): RFC 9110 field
 * characters without obs-text, i.e. HTAB and 0x20-0x7E only. Surrounding whitespace is legal
 * here (the runtime trims it), so only the characters are checked.
 */
export function isSendableHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(value);
}

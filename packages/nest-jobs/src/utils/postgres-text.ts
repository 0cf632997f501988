/**
 * What PostgreSQL refuses in text, checked in the process before anything is sent: U+0000
 * (text and jsonb cannot hold it) and lone UTF-16 surrogates (they have no UTF-8 encoding,
 * so the server rejects the message). One rule for every string that crosses into SQL.
 */

/** Describes the first character of `text` that PostgreSQL refuses, or returns null. */
export function unsafeCharacter(text: string): string | null {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0) return `U+0000 at index ${i}`;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
        continue;
      }
      return `a lone surrogate U+${code.toString(16).toUpperCase()} at index ${i}`;
    }
    if (code >= 0xdc00 && code <= 0xdfff)
      return `a lone surrogate U+${code.toString(16).toUpperCase()} at index ${i}`;
  }
  return null;
}

/**
 * `text` with what PostgreSQL refuses replaced by U+FFFD, for text the library writes on a
 * user's behalf (an error message in `last_error`) where refusing is not an option.
 */
export function toPostgresText(text: string): string {
  return unsafeCharacter(text) === null
    ? text
    : text.replace(
        /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
        '\ufffd',
      );
}

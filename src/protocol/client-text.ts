/**
 * Text that repeats what a client sent (a query value, a message type) is
 * bounded before it goes into an error or a close reason: a client cannot
 * make the service build large strings, and a WebSocket close reason, which
 * RFC 6455 limits to 123 bytes of UTF-8, is cut by bytes at a character
 * boundary (`ws` throws on a longer one).
 */

/** Most bytes of UTF-8 a close frame's reason may hold (125 bytes of payload less the 2-byte code). */
export const MAX_CLOSE_REASON_BYTES = 123;

const encoder = new TextEncoder();

/** The longest prefix of `text` whose UTF-8 fits in `maxBytes`, never splitting a character (or a surrogate pair). */
export function truncateUtf8(text: string, maxBytes: number): string {
  // Every UTF-16 unit is at most 3 bytes, so a short string needs no encoding.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let bytesUsed = 0;
  let end = 0;
  for (const char of text) {
    const size = encoder.encode(char).length;
    if (bytesUsed + size > maxBytes) break;
    bytesUsed += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** A close frame's reason: at most 123 bytes of UTF-8, with an ellipsis when cut. */
export function closeReason(text: string): string {
  const fitted = truncateUtf8(text, MAX_CLOSE_REASON_BYTES);
  return fitted === text ? text : `${truncateUtf8(text, MAX_CLOSE_REASON_BYTES - 3)}…`;
}

/** A client's value quoted for a message: JSON-escaped, at most `maxChars` characters of it, marked when cut. */
export function quoted(value: unknown, maxChars = 40): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  const chars = [...text.slice(0, maxChars * 2)];
  return chars.length > maxChars ? `${JSON.stringify(chars.slice(0, maxChars).join(''))}… (${text.length} characters)` : JSON.stringify(text);
}

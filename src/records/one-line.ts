/** C0 and C1 control characters (newline, tab, NUL, DEL, …): what would break a line or hide in it. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001F\u007F-\u009F]/g;

/**
 * A text as one line, its control characters written as escapes (`\n`,
 * `\u0000`): for error lines and headers that quote input bytes (a
 * deserializer's message shows the bad value), so that an input cannot
 * break the line or hide in it. The rest of the text is unchanged.
 *
 * @example
 * oneLine('invalid JSON: "\n\u0000"') // 'invalid JSON: "\\n\\u0000"'
 */
export function oneLine(text: string): string {
  return text.replace(CONTROLS, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * Any thrown value as one line of text: an error's message (its name when
 * the message is empty), a string as it is, `null`, `undefined`, a plain
 * object as JSON. Never throws itself — user code may throw anything, even
 * an object without a prototype, whose `String()` would throw.
 */
export function describeThrown(thrown: unknown): string {
  let text: string;
  if (thrown instanceof Error) text = thrown.message.trim() === '' ? thrown.name : thrown.message;
  else if (thrown === null || thrown === undefined || typeof thrown !== 'object') text = typeof thrown === 'symbol' ? thrown.toString() : String(thrown);
  else text = objectText(thrown);
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'an empty message';
}

function objectText(o: object): string {
  try {
    const json = JSON.stringify(o);
    if (json !== undefined && json !== '{}') return json.length > 200 ? `${json.slice(0, 199)}…` : json;
  } catch {
    // a cycle, or a toJSON that throws: fall back to a description
  }
  try {
    const text = String(o);
    if (text !== '[object Object]') return text;
  } catch {
    // no toString (Object.create(null))
  }
  return 'an object';
}

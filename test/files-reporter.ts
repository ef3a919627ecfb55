import { spec } from 'node:test/reporters';
import { relative } from 'node:path';

/** Node's spec reporter, with a line naming each test file as its tests begin. */
export default async function* filesReporter(source: AsyncIterable<{ type: string; data?: { file?: string; nesting?: number } }>): AsyncGenerator<string> {
  const inner = new spec();
  let current: string | undefined;
  const drain = function* (): Generator<string> {
    for (let chunk = inner.read(); chunk !== null; chunk = inner.read()) yield String(chunk);
  };
  for await (const event of source) {
    const file = event.data?.file;
    if (event.type === 'test:start' && file !== undefined && file !== current && event.data?.nesting === 0) {
      current = file;
      yield `\n▶ ${relative(process.cwd(), file)}\n`;
    }
    inner.write(event);
    yield* drain();
  }
  inner.end();
  await new Promise((r) => setImmediate(r));
  yield* drain();
}

/**
 * A topology module with a repartition and a window: views of each page
 * per minute, counted once each minute is over (event time from the
 * click's `ts` field, 10 s of grace for clicks out of order). Clicks are
 * keyed by user, so they are re-keyed by page and repartitioned first:
 * two sub-topologies, linked by the internal stream
 * `page-views-select-key-3-repartition`.
 *
 * Input: stream `clicks`, e.g. `{"key":"u1","value":{"page":"/home","ts":"2026-06-01T12:00:05Z"}}`.
 *
 *   tidemark produce --data-dir ./data --stream clicks --key-format string < clicks.ndjson
 *   tidemark run examples/topologies/page-views.ts --data-dir ./data
 *   tidemark describe examples/topologies/page-views.ts --format mermaid
 */
import { Extractors, Serdes, StreamsBuilder, TimeWindows } from '../../src/index.ts';

interface Click {
  readonly page: string;
  readonly ts: string;
}

const builder = new StreamsBuilder();
builder
  .stream<string, Click>('clicks', { key: Serdes.string(), value: Serdes.json<Click>(), timestamp: Extractors.field('ts') })
  .filter((_, click) => typeof click?.page === 'string')
  .selectKey((_, click) => click.page, Serdes.string())
  .groupByKey()
  .windowedBy(TimeWindows.ofSize(60_000).grace(10_000))
  .count({ emit: 'final', name: 'views' })
  .to('page-views');

export default { applicationId: 'page-views', topology: builder.build() };

/**
 * A topology module for `tidemark run`: page views counted per page in
 * one-minute tumbling windows with 10 s of grace, each window's count
 * emitted once, when stream time passes its end + grace; views that come
 * after their window closed go, untouched, to `page-views-late`.
 *
 * Input: stream `page-views`, keys and values as `tidemark produce` writes
 * them by default (JSON), e.g. `{"key":"/home","value":{"user":"ana"},"eventTime":"2025-06-01T12:00:05Z"}`.
 *
 *   tidemark produce --data-dir ./data --stream page-views < views.ndjson
 *   tidemark run examples/topologies/page-views-per-minute.ts --data-dir ./data --trace trace.ndjson
 *   tidemark timeline trace.ndjson --out timeline.html
 */
import { StreamsBuilder, TimeWindows } from '../../src/index.ts';

const builder = new StreamsBuilder();
builder
  .stream<string, { readonly user: string }>('page-views')
  .groupByKey()
  .windowedBy(TimeWindows.ofSize(60_000).grace(10_000))
  .count({ emit: 'final', late: { sideOutput: 'page-views-late' } })
  .to('page-views-per-minute');

export default { applicationId: 'page-views-per-minute', topology: builder.build() };

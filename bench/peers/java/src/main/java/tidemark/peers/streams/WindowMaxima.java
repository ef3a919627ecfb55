package tidemark.peers.streams;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * q5's second stage: from final per-window counts, keyed by windowStart with the value
 * "count,row", the rows whose count is the window's maximum. Suppress emits closed windows in
 * order of their end, so a window's counts are complete when a count of another window
 * arrives; the pending window lives in a store ("max\nrow\nrow...") so that it survives a restart.
 */
final class WindowMaxima implements Processor<Long, String, String, String> {
  static final String STORE = "q5-window-maxima";

  private ProcessorContext<String, String> context;
  private KeyValueStore<Long, String> store;
  private Long pending;

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.store = context.getStateStore(STORE);
    try (KeyValueIterator<Long, String> it = store.all()) {
      if (it.hasNext()) pending = it.next().key;
    }
  }

  @Override
  public void process(Record<Long, String> r) {
    long windowStart = r.key();
    if (pending != null && pending != windowStart) {
      String acc = store.get(pending);
      String[] lines = acc.split("\n");
      for (int i = 1; i < lines.length; i++) context.forward(new Record<>(null, lines[i], r.timestamp()));
      store.delete(pending);
    }
    pending = windowStart;
    int comma = r.value().indexOf(',');
    long count = Long.parseLong(r.value().substring(0, comma));
    String row = r.value().substring(comma + 1);
    String acc = store.get(windowStart);
    store.put(windowStart, Maxima.offer(acc, count, row));
  }
}

package tidemark.peers.flink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes each string as one line of a file: the result rows. Meant for parallelism 1 in a
 * local mini cluster (one writer, one file); Flink's FileSink would commit part files only on
 * checkpoints, which this bench does not take.
 */
public final class LineFileSink implements Sink<String> {
  private static final long serialVersionUID = 1L;
  /** Rows written by the writers of this JVM (the mini cluster runs in it). */
  public static final AtomicLong ROWS = new AtomicLong();

  private final String path;

  public LineFileSink(String path) {
    this.path = path;
  }

  @Override
  public SinkWriter<String> createWriter(WriterInitContext context) throws IOException {
    BufferedWriter out = Files.newBufferedWriter(Path.of(path), StandardCharsets.UTF_8);
    return new SinkWriter<>() {
      private long rows;

      @Override
      public void write(String row, Context ctx) throws IOException {
        out.write(row);
        out.write('\n');
        rows++;
      }

      @Override
      public void flush(boolean endOfInput) throws IOException {
        out.flush();
      }

      @Override
      public void close() throws IOException {
        out.close();
        ROWS.addAndGet(rows);
      }
    };
  }
}

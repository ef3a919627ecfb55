package tidemark.peers.flink;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import tidemark.peers.Args;
import tidemark.peers.Measure;
import tidemark.peers.Meta;
import tidemark.peers.model.Event;

/**
 * One Nexmark query on Flink's local mini cluster at parallelism 1:
 * `FlinkPeer --query q5 --events FILE.ndjson --out ROWS.ndjson`. Event time with
 * forBoundedOutOfOrderness(maxDelayMs of FILE.ndjson.meta.json), the file read by a bounded
 * FileSource, rows written to --out; prints a PEER-RESULT line.
 */
public final class FlinkPeer {
  private FlinkPeer() {}

  public static void main(String[] argv) throws Exception {
    Measure measure = new Measure();
    Args args = new Args(argv);
    String query = args.need("query");
    String eventsFile = args.need("events");
    String out = args.need("out");
    Meta meta = Meta.of(eventsFile);

    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
    FileSource<String> source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(eventsFile)).build();
    DataStream<Event> events = env
        .fromSource(source, WatermarkStrategy.noWatermarks(), "events file")
        .map(line -> {
          Measure.firstEvent();
          return Event.parse(line);
        })
        .name("parse")
        .assignTimestampsAndWatermarks(WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ofMillis(meta.maxDelayMs))
            .withTimestampAssigner((e, ts) -> e.dateTime()));
    FlinkQueries.build(query, events).sinkTo(new LineFileSink(out)).name("rows");
    env.execute("nexmark " + query);
    measure.report("flink", query, meta.events, LineFileSink.ROWS.get(), System.nanoTime(), "\"parallelism\":1");
  }
}

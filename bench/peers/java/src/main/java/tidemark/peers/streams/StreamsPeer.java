package tidemark.peers.streams;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import tidemark.peers.Args;
import tidemark.peers.Measure;
import tidemark.peers.Meta;

/**
 * One Nexmark query on Kafka Streams against a broker, over an events topic that KafkaLoader
 * filled: `StreamsPeer --bootstrap B --topic T --events FILE --query q5 --out ROWS
 * [--guarantee exactly_once_v2|at_least_once] [--commit-ms 100] [--state-dir DIR] [--run RUN]`.
 * A new application (one stream thread, RocksDB stores) reads the topic from the beginning; the
 * measured span ends when the application has committed the topic's last offset. Then the output
 * topic is drained (read_committed) into ROWS, less the sentinels' rows. Prints a PEER-RESULT line.
 */
public final class StreamsPeer {
  private static final Duration POLL = Duration.ofMillis(20);
  /** A run whose committed input offset does not move for this long has failed (rather than hang the bench). */
  private static final Duration STALL = Duration.ofSeconds(120);

  private StreamsPeer() {}

  public static void main(String[] argv) throws Exception {
    Measure measure = new Measure();
    Args args = new Args(argv);
    String bootstrap = args.need("bootstrap");
    String input = args.need("topic");
    String query = args.need("query");
    String out = args.need("out");
    String guarantee = args.get("guarantee", StreamsConfig.EXACTLY_ONCE_V2);
    long commitMs = args.getLong("commit-ms", 100);
    Meta meta = Meta.of(args.need("events"));
    String app = "nexmark-" + query + "-" + guarantee.replace('_', '-') + "-" + args.get("run", String.valueOf(System.currentTimeMillis()));
    String output = app + "-rows";
    Path stateDir = Path.of(args.get("state-dir", Files.createTempDirectory("nexmark-streams-").toString()));

    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      admin.createTopics(List.of(new NewTopic(output, 1, (short) 1).configs(KafkaLoader.KEEP_FOREVER))).all().get();
      TopicPartition in = new TopicPartition(input, 0);
      long end = admin.listOffsets(Map.of(in, OffsetSpec.latest())).partitionResult(in).get().offset();

      StreamsBuilder builder = new StreamsBuilder();
      StreamsQueries.build(builder, query, input, output, Duration.ofMillis(meta.maxDelayMs));
      Properties sp = new Properties();
      sp.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
      sp.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      sp.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
      sp.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, String.valueOf(commitMs));
      sp.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
      sp.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
      sp.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
      // Internal topics of a single-broker cluster.
      sp.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");

      long startNanos = System.nanoTime();
      long endNanos;
      long endCpu;
      try (KafkaStreams streams = new KafkaStreams(builder.build(), sp)) {
        streams.setUncaughtExceptionHandler(e -> {
          e.printStackTrace();
          System.exit(2);
          return null;
        });
        streams.start();
        waitForCommit(admin, app, in, end, guarantee.startsWith("exactly_once"));
        endNanos = System.nanoTime();
        endCpu = Measure.cpuNanos();
        long rows = drain(bootstrap, output, out);
        measure.report("kafka-streams", query, meta.events, rows, endNanos, endCpu,
            String.format("\"guarantee\":\"%s\",\"commitMs\":%d,\"fromStreamsStartS\":%.3f", guarantee, commitMs, (endNanos - startNanos) / 1e9));
        streams.close(Duration.ofSeconds(30));
        streams.cleanUp();
      }
      admin.deleteConsumerGroups(List.of(app));
    }
  }

  /**
   * Until the application has committed the input's last offset and, after that, every record
   * of its repartition topics (a query that repartitions is done only when its downstream
   * sub-topology has caught up). The repartition topics exist only once the application has
   * started, and their end offsets are read after the committed offsets: once the input is
   * committed to its end, nothing more is written to them. Kafka Streams commits the offset
   * after the last record it processed; under exactly-once the log ends with the marker of the
   * last transaction one offset further.
   */
  private static void waitForCommit(Admin admin, String app, TopicPartition in, long end, boolean exactlyOnce) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
    long lastOffset = -1;
    long lastMove = System.nanoTime();
    while (System.nanoTime() < deadline) {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(app).partitionsToOffsetAndMetadata().get();
      OffsetAndMetadata o = committed.get(in);
      if (o != null && o.offset() >= end && caughtUp(admin, app, committed, exactlyOnce ? 1 : 0)) return;
      long offset = o == null ? -1 : o.offset();
      if (offset != lastOffset) {
        lastOffset = offset;
        lastMove = System.nanoTime();
      } else if (System.nanoTime() - lastMove > STALL.toNanos()) {
        throw new IllegalStateException(app + ": the committed input offset stayed at " + offset + " of " + end + " for " + STALL.toSeconds() + " s");
      }
      Thread.sleep(POLL.toMillis());
    }
    throw new IllegalStateException(app + ": input offset " + end + " not committed within 30 minutes");
  }

  private static boolean caughtUp(Admin admin, String app, Map<TopicPartition, OffsetAndMetadata> committed, long marker) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (String t : admin.listTopics().names().get()) {
      // Repartition topics, and the subscription topics of a foreign-key join ("-topic").
      if (t.startsWith(app + "-") && (t.endsWith("-repartition") || t.endsWith("-topic"))) latest.put(new TopicPartition(t, 0), OffsetSpec.latest());
    }
    if (latest.isEmpty()) return true;
    var ends = admin.listOffsets(latest).all().get();
    for (var e : ends.entrySet()) {
      long logEnd = e.getValue().offset();
      OffsetAndMetadata c = committed.get(e.getKey());
      if (logEnd > 0 && (c == null || c.offset() < logEnd - marker)) return false;
    }
    return true;
  }

  /**
   * The output's end once its last transaction is complete: the group's offsets can be visible
   * before the transaction's marker reaches the output partition, so until the last stable
   * offset (read_committed end) equals the log end.
   */
  private static long stableEnd(String bootstrap, KafkaConsumer<String, String> committed, TopicPartition tp) throws Exception {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      for (int i = 0; i < 3000; i++) {
        long stable = committed.endOffsets(List.of(tp)).get(tp);
        long logEnd = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).partitionResult(tp).get().offset();
        if (stable >= logEnd) return stable;
        Thread.sleep(10);
      }
    }
    throw new IllegalStateException(tp + ": a transaction stays open on the output after 30 s");
  }

  /** Copies the output topic's committed records into `file`, one row a line, sentinel rows left out; returns the rows written. */
  private static long drain(String bootstrap, String topic, String file) throws Exception {
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    TopicPartition tp = new TopicPartition(topic, 0);
    long rows = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer());
         BufferedWriter w = Files.newBufferedWriter(Path.of(file), StandardCharsets.UTF_8)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = stableEnd(bootstrap, consumer, tp);
      while (consumer.position(tp) < end) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (Sentinel.isSentinelRow(r.value())) continue;
          w.write(r.value());
          w.write('\n');
          rows++;
        }
      }
    }
    return rows;
  }
}

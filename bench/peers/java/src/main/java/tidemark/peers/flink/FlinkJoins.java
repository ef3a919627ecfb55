package tidemark.peers.flink;

import java.util.ArrayList;
import java.util.Set;
import org.apache.flink.api.common.functions.CoGroupFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.Collector;
import org.apache.flink.api.common.functions.OpenContext;
import tidemark.peers.model.Auction;
import tidemark.peers.model.Bid;
import tidemark.peers.model.Person;
import tidemark.peers.model.Rows;

/** The Flink queries that join: q3 (persons with auctions), q8 (windowed), q4 and q6 (winning bids). */
final class FlinkJoins {
  private static final Set<String> Q3_STATES = Set.of("OR", "ID", "CA");

  private FlinkJoins() {}

  /** Local item suggestion: a row per auction of category 10 once its seller, a person in OR, ID or CA, is known. */
  static DataStream<String> q3(DataStream<Person> persons, DataStream<Auction> auctions) {
    return persons.filter(p -> Q3_STATES.contains(p.state)).keyBy(p -> p.id)
        .connect(auctions.filter(a -> a.category == 10).keyBy(a -> a.seller))
        .process(new KeyedCoProcessFunction<Long, Person, Auction, String>() {
          private ValueState<Person> person;
          private ListState<Long> waiting;

          @Override
          public void open(OpenContext ctx) {
            person = getRuntimeContext().getState(new ValueStateDescriptor<>("person", Person.class));
            waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting", Types.LONG));
          }

          @Override
          public void processElement1(Person p, Context ctx, Collector<String> out) throws Exception {
            person.update(p);
            for (Long id : waiting.get()) out.collect(Rows.q3(p, id));
            waiting.clear();
          }

          @Override
          public void processElement2(Auction a, Context ctx, Collector<String> out) throws Exception {
            Person p = person.value();
            if (p != null) out.collect(Rows.q3(p, a.id));
            else waiting.add(a.id);
          }
        });
  }

  /** New users: a person and an auction it sells in the same tumbling 10 s window; one row per (person, window). */
  static DataStream<String> q8(DataStream<Person> persons, DataStream<Auction> auctions) {
    return persons.coGroup(auctions).where(p -> p.id).equalTo(a -> a.seller)
        .window(TumblingEventTimeWindows.of(FlinkQueries.TEN_S))
        .apply(new CoGroupFunction<Person, Auction, String>() {
          @Override
          public void coGroup(Iterable<Person> ps, Iterable<Auction> as, Collector<String> out) {
            if (!as.iterator().hasNext()) return;
            for (Person p : ps) out.collect(Rows.q8(p, Math.floorDiv(p.dateTime, 10_000L) * 10_000L));
          }
        }, Types.STRING);
  }

  /** The winning bid of an auction (q4, q6). A Flink POJO. */
  public static class Winner {
    public long auction;
    public long category;
    public long seller;
    public long expires;
    public long price;

    public Winner() {}
  }

  /**
   * Each auction's winning bid: the highest price at or above the reserve within
   * [auction.dateTime, expires), ties to the earlier bid, then the smaller bidder; decided
   * when the watermark passes expires - 1, so every bid that can win has arrived.
   */
  static DataStream<Winner> winners(DataStream<Auction> auctions, DataStream<Bid> bids) {
    return auctions.keyBy(a -> a.id).connect(bids.keyBy(b -> b.auction))
        .process(new KeyedCoProcessFunction<Long, Auction, Bid, Winner>() {
          private ValueState<Auction> auction;
          private ValueState<Bid> best;
          private ListState<Bid> early;

          @Override
          public void open(OpenContext ctx) {
            auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction", Auction.class));
            best = getRuntimeContext().getState(new ValueStateDescriptor<>("best", Bid.class));
            early = getRuntimeContext().getListState(new ListStateDescriptor<>("early", Bid.class));
          }

          @Override
          public void processElement1(Auction a, Context ctx, Collector<Winner> out) throws Exception {
            auction.update(a);
            ctx.timerService().registerEventTimeTimer(a.expires - 1);
            for (Bid b : early.get()) offer(a, b);
            early.clear();
          }

          @Override
          public void processElement2(Bid b, Context ctx, Collector<Winner> out) throws Exception {
            Auction a = auction.value();
            if (a == null) early.add(b);
            else offer(a, b);
          }

          private void offer(Auction a, Bid b) throws Exception {
            if (b.price < a.reserve || b.dateTime < a.dateTime || b.dateTime >= a.expires) return;
            Bid cur = best.value();
            if (cur == null || b.price > cur.price || (b.price == cur.price
                && (b.dateTime < cur.dateTime || (b.dateTime == cur.dateTime && b.bidder < cur.bidder)))) {
              best.update(b);
            }
          }

          @Override
          public void onTimer(long ts, OnTimerContext ctx, Collector<Winner> out) throws Exception {
            Auction a = auction.value();
            Bid b = best.value();
            if (a != null && b != null) {
              Winner w = new Winner();
              w.auction = a.id;
              w.category = a.category;
              w.seller = a.seller;
              w.expires = a.expires;
              w.price = b.price;
              out.collect(w);
            }
            auction.clear();
            best.clear();
          }
        });
  }

  /** Average winning price per category, an updated row per winner (compared on the last row per category). */
  static DataStream<String> q4(DataStream<Winner> winners) {
    return winners.keyBy(w -> w.category).process(new KeyedProcessFunction<Long, Winner, String>() {
      private ValueState<long[]> sumCount;

      @Override
      public void open(OpenContext ctx) {
        sumCount = getRuntimeContext().getState(new ValueStateDescriptor<>("sumCount", long[].class));
      }

      @Override
      public void processElement(Winner w, Context ctx, Collector<String> out) throws Exception {
        long[] sc = sumCount.value();
        if (sc == null) sc = new long[2];
        sc[0] += w.price;
        sc[1] += 1;
        sumCount.update(sc);
        out.collect(Rows.q4(w.category, Math.floorDiv(sc[0], sc[1])));
      }
    });
  }

  /** Average of each seller's last 10 winning prices by (expires, auction), an updated row per winner. */
  static DataStream<String> q6(DataStream<Winner> winners) {
    return winners.keyBy(w -> w.seller).process(new KeyedProcessFunction<Long, Winner, String>() {
      private ValueState<ArrayList<Winner>> last;

      @Override
      @SuppressWarnings({"unchecked", "rawtypes"})
      public void open(OpenContext ctx) {
        last = getRuntimeContext().getState(new ValueStateDescriptor<>("last10", (Class<ArrayList<Winner>>) (Class) ArrayList.class));
      }

      @Override
      public void processElement(Winner w, Context ctx, Collector<String> out) throws Exception {
        ArrayList<Winner> l = last.value();
        if (l == null) l = new ArrayList<>();
        int i = l.size();
        while (i > 0 && (l.get(i - 1).expires > w.expires || (l.get(i - 1).expires == w.expires && l.get(i - 1).auction > w.auction))) i--;
        l.add(i, w);
        if (l.size() > 10) l.remove(0);
        last.update(l);
        long sum = 0;
        for (Winner x : l) sum += x.price;
        out.collect(Rows.q6(w.seller, Math.floorDiv(sum, (long) l.size())));
      }
    });
  }
}

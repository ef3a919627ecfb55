package tidemark.peers.streams;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import tidemark.peers.model.Bid;
import tidemark.peers.model.Event;

/** A bid as its JSON object in UTF-8, for repartition topics and stores. */
final class BidSerde implements Serde<Bid> {
  @Override
  public Serializer<Bid> serializer() {
    return (topic, bid) -> bid == null ? null : bid.toJson().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Deserializer<Bid> deserializer() {
    return (topic, bytes) -> bytes == null ? null : Event.parse("{\"bid\":" + new String(bytes, StandardCharsets.UTF_8) + "}").bid;
  }
}

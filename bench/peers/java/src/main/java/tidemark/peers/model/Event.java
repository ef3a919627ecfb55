package tidemark.peers.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * One line of the events file: exactly one of person, auction, bid is set. A Flink POJO.
 * Parsed with Jackson's streaming parser; a line of another shape is an error naming it.
 */
public class Event {
  private static final JsonFactory JSON = new JsonFactory();

  public Person person;
  public Auction auction;
  public Bid bid;

  public Event() {}

  /** The event's time: its dateTime. */
  public long dateTime() {
    if (bid != null) return bid.dateTime;
    if (auction != null) return auction.dateTime;
    return person.dateTime;
  }

  /** Parses one NDJSON line of the events file. */
  public static Event parse(String line) {
    try (JsonParser p = JSON.createParser(line)) {
      expect(p.nextToken() == JsonToken.START_OBJECT, line);
      expect(p.nextToken() == JsonToken.FIELD_NAME, line);
      String kind = p.currentName();
      expect(p.nextToken() == JsonToken.START_OBJECT, line);
      Event e = new Event();
      switch (kind) {
        case "bid" -> e.bid = bid(p);
        case "auction" -> e.auction = auction(p);
        case "person" -> e.person = person(p);
        default -> throw new IllegalArgumentException("events file: unknown event kind '" + kind + "' in line " + line);
      }
      return e;
    } catch (IOException ex) {
      throw new IllegalArgumentException("events file: not JSON (" + ex.getMessage() + "): " + line, ex);
    }
  }

  private static void expect(boolean ok, String line) {
    if (!ok) throw new IllegalArgumentException("events file: expected {\"person\"|\"auction\"|\"bid\":{...}}, got " + line);
  }

  private static Bid bid(JsonParser p) throws IOException {
    Bid b = new Bid();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      p.nextToken();
      switch (f) {
        case "auction" -> b.auction = p.getLongValue();
        case "bidder" -> b.bidder = p.getLongValue();
        case "price" -> b.price = p.getLongValue();
        case "channel" -> b.channel = p.getText();
        case "url" -> b.url = p.getText();
        case "dateTime" -> b.dateTime = p.getLongValue();
        case "extra" -> b.extra = p.getText();
        default -> p.skipChildren();
      }
    }
    return b;
  }

  private static Auction auction(JsonParser p) throws IOException {
    Auction a = new Auction();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      p.nextToken();
      switch (f) {
        case "id" -> a.id = p.getLongValue();
        case "itemName" -> a.itemName = p.getText();
        case "description" -> a.description = p.getText();
        case "initialBid" -> a.initialBid = p.getLongValue();
        case "reserve" -> a.reserve = p.getLongValue();
        case "dateTime" -> a.dateTime = p.getLongValue();
        case "expires" -> a.expires = p.getLongValue();
        case "seller" -> a.seller = p.getLongValue();
        case "category" -> a.category = p.getLongValue();
        case "extra" -> a.extra = p.getText();
        default -> p.skipChildren();
      }
    }
    return a;
  }

  private static Person person(JsonParser p) throws IOException {
    Person x = new Person();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      p.nextToken();
      switch (f) {
        case "id" -> x.id = p.getLongValue();
        case "name" -> x.name = p.getText();
        case "emailAddress" -> x.emailAddress = p.getText();
        case "creditCard" -> x.creditCard = p.getText();
        case "city" -> x.city = p.getText();
        case "state" -> x.state = p.getText();
        case "dateTime" -> x.dateTime = p.getLongValue();
        case "extra" -> x.extra = p.getText();
        default -> p.skipChildren();
      }
    }
    return x;
  }
}

package tidemark.peers;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.File;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/** The `<events file>.meta.json` beside an events file: its integer fields. */
public final class Meta {
  public final long events;
  public final long maxDelayMs;
  public final long firstDateTime;
  public final long lastDateTime;

  private Meta(Map<String, Long> m, String path) {
    events = need(m, "events", path);
    maxDelayMs = need(m, "maxDelayMs", path);
    firstDateTime = need(m, "firstDateTime", path);
    lastDateTime = need(m, "lastDateTime", path);
  }

  private static long need(Map<String, Long> m, String key, String path) {
    Long v = m.get(key);
    if (v == null) throw new IllegalArgumentException(path + ": no integer field '" + key + "'");
    return v;
  }

  /** Reads `<eventsFile>.meta.json`. */
  public static Meta of(String eventsFile) throws IOException {
    String path = eventsFile + ".meta.json";
    Map<String, Long> m = new HashMap<>();
    try (JsonParser p = new JsonFactory().createParser(new File(path))) {
      if (p.nextToken() != JsonToken.START_OBJECT) throw new IllegalArgumentException(path + ": not a JSON object");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        if (t == JsonToken.VALUE_NUMBER_INT) m.put(name, p.getLongValue());
        else p.skipChildren();
      }
    }
    return new Meta(m, path);
  }
}

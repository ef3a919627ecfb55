package tidemark.peers;

import java.util.HashMap;
import java.util.Map;

/** `--name value` command-line options; a missing one is an error naming it. */
public final class Args {
  private final Map<String, String> values = new HashMap<>();

  public Args(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--") || i + 1 >= argv.length) throw new IllegalArgumentException("expected --name value, got '" + a + "'");
      values.put(a.substring(2), argv[++i]);
    }
  }

  public String need(String name) {
    String v = values.get(name);
    if (v == null) throw new IllegalArgumentException("missing --" + name);
    return v;
  }

  public String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  public long getLong(String name, long fallback) {
    String v = values.get(name);
    if (v == null) return fallback;
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": not an integer: '" + v + "'");
    }
  }
}

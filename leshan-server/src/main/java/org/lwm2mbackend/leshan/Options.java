package org.lwm2mbackend.leshan;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The server's options: each from the command line, else from its environment variable, else its default (one that
 * suits a gateway: the REST API on loopback only, CoAP on every address, the daemon on loopback).
 */
public final class Options {

    /** One option: its command-line name, environment variable, default, and what it means. */
    private record Spec(String flag, String env, String def, String help) {
    }

    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        add("--daemon-url", "LESHAN_DAEMON_URL", "http://127.0.0.1:8000", "base URL of the lwm2m-backend daemon the posts go to");
        add("--http-address", "LESHAN_HTTP_ADDRESS", "127.0.0.1", "address of the REST API and event stream");
        add("--http-port", "LESHAN_HTTP_PORT", "8080", "port of the REST API and event stream");
        add("--coap-address", "LESHAN_COAP_ADDRESS", "0.0.0.0", "address devices reach over CoAP (UDP)");
        add("--coap-port", "LESHAN_COAP_PORT", "5683", "CoAP (UDP) port");
        add("--awake-time", "LESHAN_AWAKE_TIME", "93",
                "seconds a queue-mode client counts as awake after it was last heard (Leshan's default 93)");
        add("--models-folder", "LESHAN_MODELS_FOLDER", "", "folder of extra object models (DDF .xml files)");
        add("--post-queue-size", "LESHAN_POST_QUEUE_SIZE", "10000",
                "posts kept while the daemon is unreachable; beyond it the oldest is dropped");
        add("--delayed-requests", "LESHAN_DELAYED_REQUESTS", "true",
                "true: a request for a sleeping client is kept and sent at its wake (the stock demo since M17); false: 400 'sleeping'");
    }

    private static void add(String flag, String env, String def, String help) {
        SPECS.put(flag, new Spec(flag, env, def, help));
    }

    public final URI daemonUrl;
    public final String httpAddress;
    public final int httpPort;
    public final String coapAddress;
    public final int coapPort;
    public final int awakeTimeSeconds;
    public final String modelsFolder;
    public final int postQueueSize;
    public final boolean delayedRequests;
    public final boolean help;

    private Options(Map<String, String> values, boolean help) {
        this.help = help;
        this.daemonUrl = url(values.get("--daemon-url"));
        this.httpAddress = values.get("--http-address");
        this.httpPort = number(values, "--http-port", 0, 65535);
        this.coapAddress = values.get("--coap-address");
        this.coapPort = number(values, "--coap-port", 0, 65535);
        this.awakeTimeSeconds = number(values, "--awake-time", 1, 86400);
        String models = values.get("--models-folder");
        this.modelsFolder = models.isEmpty() ? null : models;
        this.postQueueSize = number(values, "--post-queue-size", 1, 10_000_000);
        this.delayedRequests = bool(values, "--delayed-requests");
    }

    /** Parses {@code args} over {@code env}; throws IllegalArgumentException naming the bad option. */
    public static Options parse(String[] args, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Spec s : SPECS.values())
            values.put(s.flag, env.getOrDefault(s.env, s.def));
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                help = true;
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!SPECS.containsKey(name))
                throw new IllegalArgumentException("unknown option " + a + " (--help lists them)");
            if (value == null) {
                if (i + 1 >= args.length)
                    throw new IllegalArgumentException(name + " needs a value");
                value = args[++i];
            }
            values.put(name, value);
        }
        return new Options(values, help);
    }

    public static String usage() {
        StringBuilder b = new StringBuilder("Usage: java -jar lwm2m-leshan-server.jar [options]\n\n"
                + "Eclipse Leshan (2.0.0-M18) with the stock demo's REST API (/api/clients) and event stream (/api/event),\n"
                + "posting registrations, presence, notifications and Sends to the lwm2m-backend daemon.\n\nOptions (or environment variables):\n");
        for (Spec s : SPECS.values())
            b.append(String.format("  %-22s %-24s %s (default: %s)%n", s.flag + " VALUE", s.env, s.help,
                    s.def.isEmpty() ? "none" : s.def));
        b.append("  -h, --help             this text\n");
        return b.toString();
    }

    private static URI url(String s) {
        try {
            URI u = new URI(s);
            if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null)
                throw new IllegalArgumentException();
            return u;
        } catch (Exception e) {
            throw new IllegalArgumentException("--daemon-url: '" + s + "' is not an http(s) URL");
        }
    }

    private static boolean bool(Map<String, String> values, String flag) {
        String s = values.get(flag).trim();
        if (s.equals("true") || s.equals("false"))
            return Boolean.parseBoolean(s);
        throw new IllegalArgumentException(flag + ": '" + s + "' is neither true nor false");
    }

    private static int number(Map<String, String> values, String flag, int min, int max) {
        String s = values.get(flag);
        try {
            int n = Integer.parseInt(s.trim());
            if (n < min || n > max)
                throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": '" + s + "' is not a whole number from " + min + " to " + max);
        }
    }
}

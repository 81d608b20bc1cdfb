/*
 * A real LwM2M client for the end-to-end tests: Eclipse Leshan's client library (leshan-lwm2m-client +
 * leshan-tl-cf-client-coap, CoAP over UDP through Californium), set up like Leshan's demo client
 * (org.eclipse.leshan.demo.client.LeshanClientDemo), which Maven Central does not publish.
 *
 * Options (the demo client's names): -u/--server-url coap://HOST:PORT, -n/--endpoint-name NAME,
 * -l/--lifetime SECONDS (default 300), -cp/--communication-period SECONDS, -q/--queue-mode,
 * -lh/--local-address ADDRESS (default the loopback address), and -cf/--content-formats F1,F2 (ours: the content
 * formats the client encodes and decodes besides the mandatory TEXT and OPAQUE, e.g. SENML_CBOR,SENML_JSON; default
 * all Leshan has: its registration's root link lists them as ct="60 110 112 11542 11543").
 *
 * Objects: 0 Security and 1 Server (from the options), 3 Device, version 1.1 (like the demo's MyDevice: 13 current time,
 * 14 UTC offset and 15 timezone writable; 0-3, 9-11, 16-21 read-only; 4 reboot, 5 factory reset), 3303
 * Temperature, instance 0 (like the demo's RandomTemperatureSensor: 5700 Sensor Value changes every 2 s by
 * -1.0..+0.9 and fires a notification; 5601/5602 min/max, 5701 units "cel", 5605 reset min/max), 5 Firmware Update,
 * version 1.0, instance 0 (1 Package URI writable, 2 Update executable, 3 State and 5 Update Result read-only).
 *
 * Commands on standard input, one a line (the demo's interactive commands):
 *   update                        trigger a registration update
 *   send [-c FORMAT] current-value PATH...   send current values (LwM2M 1.1 Send; FORMAT SENML_JSON|SENML_CBOR)
 *   collect PATH...               collect current values for a later send
 *   send [-c FORMAT] collected-value         send what was collected
 *   delay PATH MS                 (ours) hold the answer to the next read, write or execute of resource PATH MS ms
 *   deregister                    deregister and exit (end of input does the same)
 * Each lifecycle step is one JSON line on standard output, e.g. {"event":"registered","id":"aBc12"}
 * (registering, registered, registrationFailed, registrationTimeout, updating, updated, updateFailed,
 * updateTimeout, deregistered, deregistrationFailed, sendOk, sendFailed, collected, error), and so is each
 * write or execute that reaches a resource ({"event":"written","path":"/3/0/15","value":"Europe/Paris"},
 * {"event":"executed","path":"/3/0/4"}), a delay set ("delaySet") and one starting ("delaying", with the request's
 * kind, path and ms) and ending ("answering"); logs go to stderr.
 */

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.eclipse.leshan.client.LeshanClient;
import org.eclipse.leshan.client.LeshanClientBuilder;
import org.eclipse.leshan.client.engine.DefaultRegistrationEngineFactory;
import org.eclipse.leshan.client.object.Security;
import org.eclipse.leshan.client.object.Server;
import org.eclipse.leshan.client.observer.LwM2mClientObserverAdapter;
import org.eclipse.leshan.client.resource.BaseInstanceEnabler;
import org.eclipse.leshan.client.resource.ObjectsInitializer;
import org.eclipse.leshan.client.send.ManualDataSender;
import org.eclipse.leshan.client.send.NoDataException;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.LwM2mId;
import org.eclipse.leshan.core.model.LwM2mModelRepository;
import org.eclipse.leshan.core.model.ObjectLoader;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.model.ResourceModel;
import org.eclipse.leshan.core.model.ResourceModel.Operations;
import org.eclipse.leshan.core.model.ResourceModel.Type;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.node.LwM2mResource;
import org.eclipse.leshan.core.node.codec.DefaultLwM2mDecoder;
import org.eclipse.leshan.core.node.codec.DefaultLwM2mEncoder;
import org.eclipse.leshan.core.node.codec.LwM2mValueChecker;
import org.eclipse.leshan.core.request.BindingMode;
import org.eclipse.leshan.core.request.ContentFormat;
import org.eclipse.leshan.core.request.DeregisterRequest;
import org.eclipse.leshan.core.request.RegisterRequest;
import org.eclipse.leshan.core.request.UpdateRequest;
import org.eclipse.leshan.core.request.argument.Arguments;
import org.eclipse.leshan.core.response.ExecuteResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.core.response.WriteResponse;
import org.eclipse.leshan.transport.californium.client.endpoint.CaliforniumClientEndpointsProvider;
import org.eclipse.leshan.transport.californium.client.endpoint.coap.CoapClientProtocolProvider;

public class LeshanTestClient {

    private static final int TEMPERATURE = 3303;
    private static final int FIRMWARE = 5;

    /** Resource path -> ms: the next read, write or execute of it is answered that much later (`delay` command). */
    static final Map<String, Long> DELAYS = new ConcurrentHashMap<>();

    /** Holds the calling CoAP handler thread when a delay was set for `path` (once). */
    static void delayIfAsked(String kind, String path) {
        Long ms = DELAYS.remove(path);
        if (ms == null) return;
        event("delaying", "kind", kind, "path", path, "ms", ms);
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        event("answering", "kind", kind, "path", path);
    }

    /** One JSON line on stdout; stdout is shared by threads, so whole lines only. */
    static synchronized void event(String name, Object... kv) {
        StringBuilder b = new StringBuilder("{\"event\":").append(quote(name));
        for (int i = 0; i + 1 < kv.length; i += 2) {
            b.append(',').append(quote(String.valueOf(kv[i]))).append(':');
            Object v = kv[i + 1];
            b.append(v instanceof Number || v instanceof Boolean ? String.valueOf(v) : quote(String.valueOf(v)));
        }
        System.out.println(b.append('}'));
        System.out.flush();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String option(Map<String, String> opts, String shortName, String longName, String def) {
        if (opts.containsKey(shortName)) return opts.get(shortName);
        if (opts.containsKey(longName)) return opts.get(longName);
        return def;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-q") || a.equals("--queue-mode")) opts.put("-q", "true");
            else if (a.startsWith("-") && i + 1 < args.length) opts.put(a, args[++i]);
            else throw new IllegalArgumentException("unknown argument " + a);
        }
        String url = option(opts, "-u", "--server-url", "coap://127.0.0.1:5683");
        String endpoint = option(opts, "-n", "--endpoint-name", null);
        if (endpoint == null) throw new IllegalArgumentException("-n ENDPOINT is required");
        long lifetime = Long.parseLong(option(opts, "-l", "--lifetime", "300"));
        String period = option(opts, "-cp", "--communication-period", null);
        boolean queueMode = opts.containsKey("-q");
        String localAddress = option(opts, "-lh", "--local-address", null);
        String formats = option(opts, "-cf", "--content-formats", null);

        // Object 3 at version 1.1: the newest the demo server of Maven Central (2.0.0-M4) has a model of. With the
        // library's default (1.2) that server knows no resource of object 3 and decodes every value as OPAQUE.
        List<ObjectModel> models = new ArrayList<>();
        for (ObjectModel m : ObjectLoader.loadAllDefault()) {
            // the same for object 5: M4 knows Firmware Update 1.0 only
            if (m.id == LwM2mId.DEVICE ? "1.1".equals(m.version)
                    : m.id == FIRMWARE ? "1.0".equals(m.version) : true) models.add(m);
        }
        models.add(temperatureModel());
        LwM2mModelRepository repository = new LwM2mModelRepository(models);

        ObjectsInitializer initializer = new ObjectsInitializer(repository.getLwM2mModel());
        initializer.setInstancesForObject(LwM2mId.SECURITY, Security.noSec(url, 123));
        initializer.setInstancesForObject(LwM2mId.SERVER,
                new Server(123, lifetime, EnumSet.of(BindingMode.U), false, BindingMode.U));
        initializer.setInstancesForObject(LwM2mId.DEVICE, new TestDevice());
        TemperatureSensor sensor = new TemperatureSensor();
        initializer.setInstancesForObject(TEMPERATURE, sensor);
        initializer.setInstancesForObject(FIRMWARE, new Firmware());

        DefaultRegistrationEngineFactory engineFactory = new DefaultRegistrationEngineFactory();
        if (period != null) engineFactory.setCommunicationPeriod(Integer.parseInt(period) * 1000);
        engineFactory.setQueueMode(queueMode);

        CaliforniumClientEndpointsProvider.Builder endpoints = new CaliforniumClientEndpointsProvider.Builder(
                new CoapClientProtocolProvider());
        endpoints.setClientAddress(
                localAddress == null ? InetAddress.getLoopbackAddress() : InetAddress.getByName(localAddress));

        LeshanClientBuilder builder = new LeshanClientBuilder(endpoint);
        builder.setObjects(initializer.createAll());
        builder.setEndpointsProviders(endpoints.build());
        builder.setDataSenders(new ManualDataSender());
        builder.setRegistrationEngineFactory(engineFactory);
        if (formats != null) {
            // only these (and the mandatory TEXT and OPAQUE): a write in another format is refused with 4.15, and
            // the root link of the registration lists exactly these as ct
            Set<ContentFormat> keep = new java.util.HashSet<>(Arrays.asList(ContentFormat.TEXT, ContentFormat.OPAQUE));
            for (String f : formats.split(",")) keep.add(ContentFormat.fromName(f.trim()));
            Map<ContentFormat, org.eclipse.leshan.core.node.codec.NodeDecoder> decoders = DefaultLwM2mDecoder
                    .getDefaultNodeDecoders(false);
            decoders.keySet().retainAll(keep);
            Map<ContentFormat, org.eclipse.leshan.core.node.codec.NodeEncoder> encoders = DefaultLwM2mEncoder
                    .getDefaultNodeEncoders(false);
            encoders.keySet().retainAll(keep);
            builder.setDecoder(new DefaultLwM2mDecoder(decoders));
            builder.setEncoder(
                    new DefaultLwM2mEncoder(encoders, DefaultLwM2mEncoder.getDefaultPathEncoder(), new LwM2mValueChecker()));
        }
        LeshanClient client = builder.build();

        client.addObserver(new LwM2mClientObserverAdapter() {
            @Override
            public void onRegistrationStarted(LwM2mServer server, RegisterRequest request) {
                event("registering");
            }

            @Override
            public void onRegistrationSuccess(LwM2mServer server, RegisterRequest request, String registrationID) {
                event("registered", "id", registrationID);
            }

            @Override
            public void onRegistrationFailure(LwM2mServer server, RegisterRequest request,
                    org.eclipse.leshan.core.ResponseCode code, String errorMessage, Exception cause) {
                event("registrationFailed", "code", code == null ? "none" : code.toString(), "message",
                        errorMessage == null ? String.valueOf(cause) : errorMessage);
            }

            @Override
            public void onRegistrationTimeout(LwM2mServer server, RegisterRequest request) {
                event("registrationTimeout");
            }

            @Override
            public void onUpdateStarted(LwM2mServer server, UpdateRequest request) {
                event("updating");
            }

            @Override
            public void onUpdateSuccess(LwM2mServer server, UpdateRequest request) {
                event("updated");
            }

            @Override
            public void onUpdateFailure(LwM2mServer server, UpdateRequest request,
                    org.eclipse.leshan.core.ResponseCode code, String errorMessage, Exception cause) {
                event("updateFailed", "code", code == null ? "none" : code.toString());
            }

            @Override
            public void onUpdateTimeout(LwM2mServer server, UpdateRequest request) {
                event("updateTimeout");
            }

            @Override
            public void onDeregistrationSuccess(LwM2mServer server, DeregisterRequest request) {
                event("deregistered");
            }

            @Override
            public void onDeregistrationFailure(LwM2mServer server, DeregisterRequest request,
                    org.eclipse.leshan.core.ResponseCode code, String errorMessage, Exception cause) {
                event("deregistrationFailed", "code", code == null ? "none" : code.toString());
            }

            @Override
            public void onUnexpectedError(Throwable unexpectedError) {
                event("error", "message", String.valueOf(unexpectedError));
            }
        });

        client.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> client.destroy(true)));

        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            List<String> words = new ArrayList<>(Arrays.asList(line.trim().split("\\s+")));
            if (words.isEmpty() || words.get(0).isEmpty()) continue;
            try {
                if (!command(client, words)) break;
            } catch (RuntimeException e) {
                event("error", "command", line.trim(), "message", String.valueOf(e));
            }
        }
        client.destroy(true);
        sensor.stop();
        System.exit(0);
    }

    /** One stdin command; false to stop. */
    static boolean command(LeshanClient client, List<String> words) {
        String name = words.remove(0);
        switch (name) {
        case "update":
            client.triggerRegistrationUpdate();
            return true;
        case "collect": {
            List<LwM2mPath> paths = new ArrayList<>();
            for (String p : words) paths.add(new LwM2mPath(p));
            client.getSendService().getDataSender(ManualDataSender.DEFAULT_NAME, ManualDataSender.class)
                    .collectData(paths);
            event("collected", "paths", String.join(",", words));
            return true;
        }
        case "send": {
            ContentFormat format = ContentFormat.SENML_CBOR;
            if (words.size() >= 2 && (words.get(0).equals("-c") || words.get(0).equals("--content-format"))) {
                words.remove(0);
                format = ContentFormat.fromName(words.remove(0));
            }
            if (words.isEmpty()) throw new IllegalArgumentException("send current-value PATH... | send collected-value");
            String what = words.remove(0);
            for (LwM2mServer server : client.getRegisteredServers().values()) {
                if (what.equals("current-value")) {
                    client.getSendService().sendData(server, format, words, 2000,
                            (response) -> event(response.isSuccess() ? "sendOk" : "sendFailed", "code",
                                    response.getCode().toString()),
                            (e) -> event("sendFailed", "message", String.valueOf(e)));
                } else if (what.equals("collected-value")) {
                    try {
                        ContentFormat f = format;
                        client.getSendService().getDataSender(ManualDataSender.DEFAULT_NAME, ManualDataSender.class)
                                .sendCollectedData(server, f, 2000, false);
                        event("sendOk", "code", "collected");
                    } catch (NoDataException e) {
                        event("sendFailed", "message", "no data collected");
                    }
                } else {
                    throw new IllegalArgumentException("send current-value PATH... | send collected-value");
                }
            }
            return true;
        }
        case "delay": {
            if (words.size() != 2) throw new IllegalArgumentException("delay PATH MS");
            String path = new LwM2mPath(words.get(0)).toString();
            long ms = Long.parseLong(words.get(1));
            DELAYS.put(path, ms);
            event("delaySet", "path", path, "ms", ms);
            return true;
        }
        case "deregister":
        case "exit":
            return false;
        default:
            throw new IllegalArgumentException("unknown command " + name);
        }
    }

    /** IPSO 3303 Temperature, the resources the demo's sensor has. */
    static ObjectModel temperatureModel() {
        return new ObjectModel(TEMPERATURE, "Temperature", "Temperature sensor", "1.0", true, false,
                new ResourceModel(5700, "Sensor Value", Operations.R, false, true, Type.FLOAT, "", "", ""),
                new ResourceModel(5701, "Sensor Units", Operations.R, false, false, Type.STRING, "", "", ""),
                new ResourceModel(5601, "Min Measured Value", Operations.R, false, false, Type.FLOAT, "", "", ""),
                new ResourceModel(5602, "Max Measured Value", Operations.R, false, false, Type.FLOAT, "", "", ""),
                new ResourceModel(5605, "Reset Min and Max Measured Values", Operations.E, false, false, Type.NONE,
                        "", "", ""));
    }

    public static class TemperatureSensor extends BaseInstanceEnabler {
        private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        private final Random rng = new Random();
        private double current = 20d;
        private double min = current;
        private double max = current;

        public TemperatureSensor() {
            scheduler.scheduleAtFixedRate(this::change, 2, 2, TimeUnit.SECONDS);
        }

        void stop() {
            scheduler.shutdownNow();
        }

        private static double twoDigits(double v) {
            return BigDecimal.valueOf(v).setScale(2, RoundingMode.HALF_UP).doubleValue();
        }

        private void change() {
            Integer minMax = null;
            synchronized (this) {
                current += (rng.nextInt(20) - 10) / 10d;
                if (current > max) {
                    max = current;
                    minMax = 5602;
                } else if (current < min) {
                    min = current;
                    minMax = 5601;
                }
            }
            if (minMax != null) fireResourcesChange(getResourcePath(5700), getResourcePath(minMax));
            else fireResourceChange(5700);
        }

        @Override
        public ReadResponse read(LwM2mServer server, int resourceId) {
            delayIfAsked("read", getResourcePath(resourceId).toString());
            return readNow(server, resourceId);
        }

        private synchronized ReadResponse readNow(LwM2mServer server, int resourceId) {
            switch (resourceId) {
            case 5700:
                return ReadResponse.success(resourceId, twoDigits(current));
            case 5701:
                return ReadResponse.success(resourceId, "cel");
            case 5601:
                return ReadResponse.success(resourceId, twoDigits(min));
            case 5602:
                return ReadResponse.success(resourceId, twoDigits(max));
            default:
                return super.read(server, resourceId);
            }
        }

        @Override
        public synchronized ExecuteResponse execute(LwM2mServer server, int resourceId, Arguments arguments) {
            delayIfAsked("execute", getResourcePath(resourceId).toString());
            if (resourceId == 5605) {
                event("executed", "path", getResourcePath(resourceId).toString());
                min = current;
                max = current;
                return ExecuteResponse.success();
            }
            return super.execute(server, resourceId, arguments);
        }

        @Override
        public List<Integer> getAvailableResourceIds(ObjectModel model) {
            return Arrays.asList(5700, 5701, 5601, 5602, 5605);
        }
    }

    /** Object 5 (Firmware Update 1.0), enough to take a package URI: nothing is downloaded. */
    public static class Firmware extends BaseInstanceEnabler {
        private String packageUri = "";

        @Override
        public ReadResponse read(LwM2mServer server, int id) {
            delayIfAsked("read", getResourcePath(id).toString());
            switch (id) {
            case 3: // State: idle
            case 5: // Update Result: initial value
                return ReadResponse.success(id, 0L);
            default:
                return super.read(server, id);
            }
        }

        @Override
        public WriteResponse write(LwM2mServer server, boolean replace, int id, LwM2mResource value) {
            delayIfAsked("write", getResourcePath(id).toString());
            if (id != 1) return super.write(server, replace, id, value);
            synchronized (this) {
                packageUri = (String) value.getValue();
            }
            event("written", "path", getResourcePath(id).toString(), "value", packageUri);
            return WriteResponse.success();
        }

        @Override
        public ExecuteResponse execute(LwM2mServer server, int id, Arguments arguments) {
            delayIfAsked("execute", getResourcePath(id).toString());
            if (id != 2) return super.execute(server, id, arguments);
            event("executed", "path", getResourcePath(id).toString());
            return ExecuteResponse.success();
        }

        @Override
        public List<Integer> getAvailableResourceIds(ObjectModel model) {
            return Arrays.asList(1, 2, 3, 5);
        }
    }

    /** Object 3 like the demo's MyDevice. */
    public static class TestDevice extends BaseInstanceEnabler {
        private final Random rng = new Random();
        private String utcOffset = "+00:00";
        private String timezone = "Etc/UTC";

        public TestDevice() {
        }

        @Override
        public ReadResponse read(LwM2mServer server, int id) {
            delayIfAsked("read", getResourcePath(id).toString());
            return readNow(server, id);
        }

        private synchronized ReadResponse readNow(LwM2mServer server, int id) {
            switch (id) {
            case 0:
                return ReadResponse.success(id, "Leshan Demo Device");
            case 1:
                return ReadResponse.success(id, "Model 500");
            case 2:
                return ReadResponse.success(id, "LT-500-000-0001");
            case 3:
                return ReadResponse.success(id, "1.0.0");
            case 9:
                return ReadResponse.success(id, (long) rng.nextInt(101));
            case 10:
                return ReadResponse.success(id, Runtime.getRuntime().freeMemory() / 1024);
            case 11: {
                Map<Integer, Long> errorCodes = new HashMap<>();
                errorCodes.put(0, 0L);
                return ReadResponse.success(id, errorCodes, Type.INTEGER);
            }
            case 13:
                return ReadResponse.success(id, new Date());
            case 14:
                return ReadResponse.success(id, utcOffset);
            case 15:
                return ReadResponse.success(id, timezone);
            case 16:
                return ReadResponse.success(id, "U");
            case 17:
                return ReadResponse.success(id, "Demo");
            case 18:
                return ReadResponse.success(id, "1.0.1");
            case 19:
                return ReadResponse.success(id, "1.0.2");
            case 20:
                return ReadResponse.success(id, (long) rng.nextInt(7));
            case 21:
                return ReadResponse.success(id, Runtime.getRuntime().totalMemory() / 1024);
            default:
                return super.read(server, id);
            }
        }

        @Override
        public WriteResponse write(LwM2mServer server, boolean replace, int id, LwM2mResource value) {
            delayIfAsked("write", getResourcePath(id).toString());
            return writeNow(server, replace, id, value);
        }

        private synchronized WriteResponse writeNow(LwM2mServer server, boolean replace, int id, LwM2mResource value) {
            switch (id) {
            case 13:
                return WriteResponse.notFound();
            case 14:
                event("written", "path", getResourcePath(id).toString(), "value", value.getValue());
                utcOffset = (String) value.getValue();
                fireResourceChange(id);
                return WriteResponse.success();
            case 15:
                event("written", "path", getResourcePath(id).toString(), "value", value.getValue());
                timezone = (String) value.getValue();
                fireResourceChange(id);
                return WriteResponse.success();
            default:
                return super.write(server, replace, id, value);
            }
        }

        @Override
        public ExecuteResponse execute(LwM2mServer server, int id, Arguments arguments) {
            delayIfAsked("execute", getResourcePath(id).toString());
            if (id == 4 || id == 5) {
                event("executed", "path", getResourcePath(id).toString());
                return ExecuteResponse.success();
            }
            return super.execute(server, id, arguments);
        }

        @Override
        public List<Integer> getAvailableResourceIds(ObjectModel model) {
            return Arrays.asList(0, 1, 2, 3, 4, 5, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21);
        }
    }
}

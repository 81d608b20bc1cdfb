package org.lwm2mbackend.leshan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server against a real LwM2M client (Leshan's client library, in process, queue mode) and a stand-in daemon:
 * what it posts, and that its REST API and event stream answer as the stock demo's.
 */
class OwnLeshanServerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ObjectMapper M = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static PostReceiver daemon;
    private static OwnLeshanServer server;
    private static String api;

    @BeforeAll
    static void start() throws Exception {
        daemon = new PostReceiver();
        Options options = Options.parse(new String[] { "--daemon-url", daemon.url().toString(), "--http-port", "0",
                "--coap-address", "127.0.0.1", "--coap-port", "0", "--awake-time", "2" }, Map.of());
        server = new OwnLeshanServer(options,
                new DaemonPoster(options.daemonUrl, 1000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(2)));
        server.start();
        api = "http://127.0.0.1:" + server.httpPort();
    }

    @AfterAll
    static void stop() {
        server.stop(Duration.ofSeconds(1));
        daemon.close();
    }

    private static HttpResponse<String> call(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(WAIT);
        if (json == null)
            b.method(method, HttpRequest.BodyPublishers.noBody());
        else
            b.method(method, HttpRequest.BodyPublishers.ofString(json)).header("Content-Type", "application/json");
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode resource(PostReceiver.Received r, int id) {
        for (JsonNode res : r.body().path("val").path("/10240").path("instances").path(0).path("resources"))
            if (res.path("id").asInt() == id)
                return res;
        throw new AssertionError("no resource " + id + " in " + r.body());
    }

    @Test
    void postsTheLifeOfAQueueModeDevice() throws Exception {
        int from = daemon.posts().size();
        try (TestDevice device = new TestDevice("life", server.coapPort(), true, 120).start()) {
            // registered: awake first, then the registration with its details
            PostReceiver.Received awake = daemon.await(from, r -> r.body().path("ep").asText().equals("life")
                    && PostReceiver.isRegistrationResource(r, 3), WAIT);
            PostReceiver.Received reg = daemon.await(from, r -> r.body().path("ep").asText().equals("life")
                    && PostReceiver.isRegistrationResource(r, 0), WAIT);
            assertTrue(daemon.posts().indexOf(awake) < daemon.posts().indexOf(reg), "awake before registered");
            assertEquals("/leshan_api/resource/composite", reg.path());
            long registrationDate = server.lwm2m().getRegistrationService().getByEndpoint("life").getRegistrationDate()
                    .getTime();
            assertEquals(registrationDate, resource(reg, 0).path("value").asLong());
            assertEquals("TIME", resource(reg, 0).path("type").asText());
            assertEquals(true, resource(reg, 5).path("value").asBoolean());
            assertEquals("U", resource(reg, 6).path("value").asText());
            assertTrue(resource(reg, 7).path("value").asText().contains("</3303/0>"), resource(reg, 7).toString());
            assertEquals(120, resource(reg, 8).path("value").asInt());

            // a notification keyed by the observed path
            HttpResponse<String> observe = call("POST", "/api/clients/life/3303/0/5700/observe", null);
            assertEquals(200, observe.statusCode(), observe.body());
            int beforeChange = daemon.posts().size();
            device.temperature.set(23.25);
            PostReceiver.Received note = daemon.await(beforeChange,
                    r -> r.body().path("val").has("/3303/0/5700") && r.path().endsWith("/composite"), WAIT);
            assertEquals("23.25", note.body().path("val").path("/3303/0/5700").path("value").asText());
            assertEquals("FLOAT", note.body().path("val").path("/3303/0/5700").path("type").asText());

            // a Send of two collected values: both, each at its own time, in Leshan's (ascending) order
            device.temperature.set(18.5);
            device.collect("/3303/0/5700");
            Thread.sleep(20);
            device.temperature.set(19.5);
            device.collect("/3303/0/5700");
            int beforeSend = daemon.posts().size();
            device.sendCollected();
            PostReceiver.Received send = daemon.await(beforeSend, r -> r.path().endsWith("/timestamped"), WAIT);
            assertEquals("life", send.body().path("ep").asText());
            JsonNode entries = send.body().path("val");
            assertEquals(2, entries.size(), send.body().toString());
            List<Instant> times = new ArrayList<>();
            List<String> values = new ArrayList<>();
            for (JsonNode entry : entries) {
                String key = entry.fieldNames().next();
                times.add(Instant.parse(key));
                values.add(entry.path(key).path("nodes").path("/3303/0/5700").path("value").asText());
            }
            assertTrue(times.get(0).isBefore(times.get(1)), times.toString());
            assertEquals(List.of("18.5", "19.5"), values);

            // the awake time (2 s) runs out: sleeping
            PostReceiver.Received sleeping = daemon.await(from, r -> r.body().path("ep").asText().equals("life")
                    && PostReceiver.isRegistrationResource(r, 4), WAIT);
            assertTrue(sleeping.body().path("val").path("value").asLong() >= registrationDate);

            // deregistration: the registration date as its value
            int beforeDeregistration = daemon.posts().size();
            device.close();
            PostReceiver.Received dereg = daemon.await(beforeDeregistration,
                    r -> PostReceiver.isRegistrationResource(r, 1), WAIT);
            assertEquals("/leshan_api/resource/single", dereg.path());
            assertEquals(registrationDate, dereg.body().path("val").path("value").asLong());
        }
    }

    @Test
    void postsACompositeNotificationWithOneKeyPerObservedPath() throws Exception {
        try (TestDevice device = new TestDevice("composite", server.coapPort(), false, 120).start()) {
            HttpResponse<String> observe = call("POST",
                    "/api/clients/composite/composite/observe?paths=/3303/0/5700,/3303/0/5701&pathformat=SENML_CBOR&nodeformat=SENML_CBOR",
                    null);
            assertEquals(200, observe.statusCode(), observe.body());
            int from = daemon.posts().size();
            device.temperature.set(24.5);
            PostReceiver.Received note = daemon.await(from, r -> r.body().path("ep").asText().equals("composite")
                    && r.body().path("val").has("/3303/0/5701"), WAIT);
            assertEquals("/leshan_api/resource/composite", note.path());
            assertEquals("24.5", note.body().path("val").path("/3303/0/5700").path("value").asText());
            assertEquals("cel", note.body().path("val").path("/3303/0/5701").path("value").asText());
        }
    }

    @Test
    void answersTheStockDemosRestRoutes() throws Exception {
        try (TestDevice device = new TestDevice("rest", server.coapPort(), false, 120).start()) {
            HttpResponse<String> all = call("GET", "/api/clients", null);
            assertEquals(200, all.statusCode());
            JsonNode reg = null;
            for (JsonNode r : M.readTree(all.body()))
                if (r.path("endpoint").asText().equals("rest"))
                    reg = r;
            assertTrue(reg != null, all.body());
            assertEquals(false, reg.path("queuemode").asBoolean());
            assertTrue(!reg.has("sleeping"), "sleeping only for queue-mode clients");
            assertTrue(reg.path("registrationDate").isNumber());

            HttpResponse<String> read = call("GET", "/api/clients/rest/3303/0/5700?timeout=5", null);
            assertEquals(200, read.statusCode());
            assertEquals(M.readTree("{\"status\":\"CONTENT(205)\",\"valid\":true,\"success\":true,\"failure\":false,"
                    + "\"content\":{\"id\":5700,\"kind\":\"singleResource\",\"type\":\"FLOAT\",\"value\":\"20.0\"}}"),
                    M.readTree(read.body()));

            HttpResponse<String> refused = call("PUT", "/api/clients/rest/3303/0/5700",
                    "{\"id\":5700,\"kind\":\"singleResource\",\"type\":\"FLOAT\",\"value\":\"1.5\"}");
            assertEquals(200, refused.statusCode());
            assertEquals("METHOD_NOT_ALLOWED(405)", M.readTree(refused.body()).path("status").asText());
            assertEquals(true, M.readTree(refused.body()).path("failure").asBoolean());

            HttpResponse<String> nobody = call("GET", "/api/clients/nobody/3/0/0", null);
            assertEquals(400, nobody.statusCode());
            assertEquals("No registered client with id 'nobody'", nobody.body());

            HttpResponse<String> noObservation = call("DELETE", "/api/clients/rest/3/0/0/observe?active", null);
            assertEquals(404, noObservation.statusCode());

            HttpResponse<String> passive = call("DELETE", "/api/clients/rest/3/0/0/observe", null);
            assertEquals(200, passive.statusCode());
            assertEquals("", passive.body());

            HttpResponse<String> badPath = call("GET", "/api/clients/rest/3/a/0", null);
            assertEquals(400, badPath.statusCode());
            assertTrue(badPath.body().startsWith("Invalid request: "), badPath.body());
        }
    }

    @Test
    void keepsARequestForASleepingClientAndAnswersItOnTheEventStream() throws Exception {
        HttpRequest streamRequest = HttpRequest.newBuilder(URI.create(api + "/api/event?ep=sleepy"))
                .header("Accept", "text/event-stream").build();
        HttpResponse<InputStream> stream = HTTP.send(streamRequest, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        assertTrue(stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        BufferedReader events = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
        int from = daemon.posts().size();
        try (TestDevice device = new TestDevice("sleepy", server.coapPort(), true, 120).start()) {
            assertEquals("REGISTRATION", nextEvent(events, "REGISTRATION")[0]);
            daemon.await(from, r -> r.body().path("ep").asText().equals("sleepy") && PostReceiver.isRegistrationResource(r, 4),
                    WAIT);
            HttpResponse<String> delayed = call("PUT", "/api/clients/sleepy/3/0/14?timeout=5",
                    "{\"id\":14,\"kind\":\"singleResource\",\"type\":\"STRING\",\"value\":\"+02:00\"}");
            assertEquals(200, delayed.statusCode());
            JsonNode answer = M.readTree(delayed.body());
            assertEquals(true, answer.path("delayed").asBoolean(), delayed.body());
            assertEquals("/3/0/14", answer.path("path").asText());
            device.client.triggerRegistrationUpdate();
            String[] response = nextEvent(events, "REQUEST_RESPONSE");
            JsonNode data = M.readTree(response[1]);
            assertEquals(answer.path("requestId").asText(), data.path("requestId").asText());
            assertEquals("CHANGED(204)", data.path("response").path("status").asText());
            // the stock demo's ResponseDelayed, fields in its declaration order
            List<String> fields = new ArrayList<>();
            data.fieldNames().forEachRemaining(fields::add);
            assertEquals(List.of("ep", "path", "requestId", "response", "delayed"), fields);
        } finally {
            stream.body().close();
        }
    }

    @Test
    void withDelayedRequestsOffARequestForASleepingClientIsRefusedAsSleeping() throws Exception {
        Options options = Options.parse(new String[] { "--daemon-url", daemon.url().toString(), "--http-port", "0",
                "--coap-address", "127.0.0.1", "--coap-port", "0", "--awake-time", "1", "--delayed-requests", "false" },
                Map.of());
        OwnLeshanServer refusing = new OwnLeshanServer(options,
                new DaemonPoster(options.daemonUrl, 1000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(2)));
        refusing.start();
        int from = daemon.posts().size();
        try (TestDevice device = new TestDevice("refused", refusing.coapPort(), true, 120).start()) {
            daemon.await(from, r -> r.body().path("ep").asText().equals("refused") && PostReceiver.isRegistrationResource(r, 4),
                    WAIT);
            String url = "http://127.0.0.1:" + refusing.httpPort() + "/api/clients/refused/3/0/14";
            String body = "{\"id\":14,\"kind\":\"singleResource\",\"type\":\"STRING\",\"value\":\"+01:00\"}";
            HttpResponse<String> asleep = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, asleep.statusCode());
            assertEquals("Invalid request: The destination client is sleeping, request cannot be sent.", asleep.body());
        } finally {
            refusing.stop(Duration.ofSeconds(1));
        }
    }

    /** Reads the stream until an event named {@code name}: {name, data}. */
    private static String[] nextEvent(BufferedReader in, String name) throws Exception {
        String event = null;
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("event: "))
                event = line.substring(7).trim();
            else if (line.startsWith("data: ") && name.equals(event))
                return new String[] { event, line.substring(6) };
        }
        throw new AssertionError("the stream ended before " + name);
    }
}

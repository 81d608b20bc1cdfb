package org.lwm2mbackend.leshan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

class DaemonPosterTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static ObjectNode body(String name) {
        return JsonNodeFactory.instance.objectNode().put("ep", name);
    }

    private static DaemonPoster poster(URI url, int capacity) {
        return new DaemonPoster(url, capacity, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofSeconds(2));
    }

    private static List<String> endpoints(List<PostReceiver.Received> posts) {
        return posts.stream().map(p -> p.body().path("ep").asText()).toList();
    }

    @Test
    void retriesWithBackoffAndKeepsTheOrder() throws Exception {
        try (PostReceiver daemon = new PostReceiver()) {
            daemon.answer(503, 500);
            DaemonPoster poster = poster(daemon.url(), 100);
            poster.post("/leshan_api/resource/single", "a", body("a"));
            poster.post("/leshan_api/resource/single", "b", body("b"));
            poster.post("/leshan_api/resource/composite", "c", body("c"));
            List<PostReceiver.Received> posts = daemon.awaitCount(5, WAIT);
            // a answered 503 then 500, then accepted: b and c wait behind it
            assertEquals(List.of("a", "a", "a", "b", "c"), endpoints(posts));
            assertEquals("/leshan_api/resource/composite", posts.get(4).path());
            poster.close(WAIT);
            assertEquals(2, poster.retries());
            assertEquals(3, poster.delivered());
        }
    }

    @Test
    void aRefusalIsNotRetried() throws Exception {
        try (PostReceiver daemon = new PostReceiver()) {
            daemon.answer(400, 409);
            DaemonPoster poster = poster(daemon.url(), 100);
            poster.post("/leshan_api/resource/single", "a", body("a"));
            poster.post("/leshan_api/resource/single", "b", body("b"));
            poster.post("/leshan_api/resource/single", "c", body("c"));
            assertEquals(List.of("a", "b", "c"), endpoints(daemon.awaitCount(3, WAIT)));
            poster.close(WAIT);
            assertEquals(List.of("a", "b", "c"), endpoints(daemon.posts()));
            assertEquals(2, poster.refused());
            assertEquals(0, poster.retries());
            assertEquals(1, poster.delivered());
        }
    }

    @Test
    void whileTheDaemonIsDownTheQueueKeepsTheNewestAndCountsTheDropped() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        DaemonPoster poster = poster(URI.create("http://127.0.0.1:" + port), 3);
        poster.post("/leshan_api/resource/single", "p1", body("p1"));
        while (poster.retries() == 0)
            Thread.sleep(5);
        // p1 is being retried; p2 and p3 wait, then p4 and p5 push them out
        for (String ep : List.of("p2", "p3", "p4", "p5"))
            poster.post("/leshan_api/resource/single", ep, body(ep));
        assertEquals(2, poster.dropped());
        assertEquals(3, poster.queued());
        try (PostReceiver daemon = new PostReceiver(port)) {
            assertEquals(List.of("p1", "p4", "p5"), endpoints(daemon.awaitCount(3, WAIT)));
            poster.close(WAIT);
            assertEquals(3, daemon.posts().size());
            assertEquals(3, poster.delivered());
            assertEquals(2, poster.dropped());
        }
    }
}

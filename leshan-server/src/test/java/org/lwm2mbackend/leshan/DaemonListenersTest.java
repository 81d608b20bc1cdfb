package org.lwm2mbackend.leshan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.eclipse.leshan.core.ResponseCode;
import org.eclipse.leshan.core.endpoint.DefaultEndPointUriHandler;
import org.eclipse.leshan.core.endpoint.EndpointUri;
import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.node.TimestampedLwM2mNode;
import org.eclipse.leshan.core.node.TimestampedLwM2mNodes;
import org.eclipse.leshan.core.observation.CompositeObservation;
import org.eclipse.leshan.core.observation.ObservationIdentifier;
import org.eclipse.leshan.core.observation.SingleObservation;
import org.eclipse.leshan.core.peer.IpPeer;
import org.eclipse.leshan.core.response.ObserveCompositeResponse;
import org.eclipse.leshan.core.response.ObserveResponse;
import org.eclipse.leshan.server.registration.Registration;
import org.junit.jupiter.api.Test;

/** What the listeners post for the responses a real client is hard to make send: timestamps, a left-out path. */
class DaemonListenersTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final EndpointUri URI = new DefaultEndPointUriHandler().createUri("coap://127.0.0.1:5683");
    private static final Registration REG = new Registration.Builder("reg1", "dev",
            new IpPeer(new InetSocketAddress("127.0.0.1", 40000)), URI).build();

    private static DaemonPoster poster(PostReceiver daemon) {
        return new DaemonPoster(daemon.url(), 10, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofSeconds(2));
    }

    private static LwM2mSingleResource temp(double v) {
        return LwM2mSingleResource.newFloatResource(5700, v);
    }

    /** The entries of a timestamped body as [key, value of nodes[path]]. */
    private static List<String> entries(JsonNode body, String path) {
        List<String> out = new ArrayList<>();
        for (JsonNode entry : body.path("val")) {
            String key = entry.fieldNames().next();
            out.add(key + "=" + entry.path(key).path("nodes").path(path).path("value").asText());
        }
        return out;
    }

    @Test
    void aTimestampedNotificationIsPostedWithEveryTimestampUnderTheObservedPath() throws Exception {
        try (PostReceiver daemon = new PostReceiver()) {
            DaemonPoster poster = poster(daemon);
            DaemonListeners listeners = new DaemonListeners(poster, () -> 0L);
            LwM2mPath path = new LwM2mPath("/3303/0/5700");
            SingleObservation obs = new SingleObservation(new ObservationIdentifier(URI, new byte[] { 1 }), "reg1", path,
                    null, Map.of(), Map.of());
            Instant t1 = Instant.parse("2026-11-29T04:00:00.123456789Z");
            Instant t2 = Instant.parse("2026-11-29T04:05:00Z");
            // Leshan gives the newest first
            List<TimestampedLwM2mNode> values = List.of(new TimestampedLwM2mNode(t2, temp(21.5)),
                    new TimestampedLwM2mNode(t1, temp(20.5)));
            listeners.onResponse(obs, REG, new ObserveResponse(ResponseCode.CONTENT, null, null, values, obs, null));
            PostReceiver.Received post = daemon.awaitCount(1, WAIT).get(0);
            assertEquals("/leshan_api/resource/timestamped", post.path());
            assertEquals("dev", post.body().path("ep").asText());
            assertEquals(List.of("2026-11-29T04:05:00Z=21.5", "2026-11-29T04:00:00.123456789Z=20.5"),
                    entries(post.body(), "/3303/0/5700"));
            poster.close(WAIT);
        }
    }

    @Test
    void aCompositeNotificationNamesEveryObservedPathAndALeftOutOneAsNull() throws Exception {
        try (PostReceiver daemon = new PostReceiver()) {
            DaemonPoster poster = poster(daemon);
            DaemonListeners listeners = new DaemonListeners(poster, () -> 0L);
            LwM2mPath here = new LwM2mPath("/3303/0/5700");
            LwM2mPath missing = new LwM2mPath("/3303/1/5700");
            CompositeObservation obs = new CompositeObservation(new ObservationIdentifier(URI, new byte[] { 2 }), "reg1",
                    List.of(here, missing), null, null, Map.of(), Map.of());
            Map<LwM2mPath, LwM2mNode> content = new LinkedHashMap<>();
            content.put(here, temp(19.0));
            listeners.onResponse(obs, REG,
                    new ObserveCompositeResponse(ResponseCode.CONTENT, content, null, null, obs, null, null));
            PostReceiver.Received post = daemon.awaitCount(1, WAIT).get(0);
            assertEquals("/leshan_api/resource/composite", post.path());
            JsonNode val = post.body().path("val");
            assertEquals("19.0", val.path("/3303/0/5700").path("value").asText());
            assertTrue(val.has("/3303/1/5700") && val.get("/3303/1/5700").isNull(), val.toString());
            poster.close(WAIT);
        }
    }

    @Test
    void aSendIsPostedWithAllItsTimestampsAndNullLast() throws Exception {
        try (PostReceiver daemon = new PostReceiver()) {
            DaemonPoster poster = poster(daemon);
            DaemonListeners listeners = new DaemonListeners(poster, () -> 0L);
            LwM2mPath path = new LwM2mPath("/3303/0/5700");
            TimestampedLwM2mNodes data = TimestampedLwM2mNodes.builder()
                    .put(Instant.parse("2026-11-29T04:10:00Z"), path, temp(22.0)).put(path, temp(23.0))
                    .put(Instant.parse("2026-11-29T04:00:00Z"), path, temp(21.0)).build();
            listeners.dataReceived(REG, data, null);
            PostReceiver.Received post = daemon.awaitCount(1, WAIT).get(0);
            assertEquals("/leshan_api/resource/timestamped", post.path());
            assertEquals(List.of("2026-11-29T04:00:00Z=21.0", "2026-11-29T04:10:00Z=22.0", "null=23.0"),
                    entries(post.body(), "/3303/0/5700"));
            poster.close(WAIT);
        }
    }

    @Test
    void presenceIsPostedAsTheTimeOfTheEvent() throws Exception {
        try (PostReceiver daemon = new PostReceiver()) {
            DaemonPoster poster = poster(daemon);
            Iterator<Long> clock = List.of(1000L, 2000L).iterator();
            DaemonListeners listeners = new DaemonListeners(poster, clock::next);
            listeners.onAwake(REG);
            listeners.onSleeping(REG);
            List<PostReceiver.Received> posts = daemon.awaitCount(2, WAIT);
            assertEquals("{\"ep\":\"dev\",\"obj_id\":10240,\"val\":{\"kind\":\"singleResource\",\"id\":3,\"type\":\"TIME\",\"value\":1000}}",
                    posts.get(0).body().toString());
            assertEquals(4, posts.get(1).body().path("val").path("id").asInt());
            assertEquals(2000, posts.get(1).body().path("val").path("value").asLong());
            poster.close(WAIT);
        }
    }
}

package org.lwm2mbackend.leshan;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

/** A small HTTP server standing in for the daemon: records every post and answers the scripted statuses (then 201). */
final class PostReceiver implements AutoCloseable {
    /** One post as received. */
    record Received(String path, JsonNode body) {
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final HttpServer http;
    private final List<Received> posts = new ArrayList<>();
    private final ArrayDeque<Integer> script = new ArrayDeque<>();

    PostReceiver(int port) throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        http.setExecutor(Executors.newSingleThreadExecutor());
        http.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            int status;
            synchronized (this) {
                posts.add(new Received(exchange.getRequestURI().getPath(), MAPPER.readTree(body)));
                Integer scripted = script.pollFirst();
                status = scripted == null ? 201 : scripted;
                notifyAll();
            }
            byte[] answer = (status == 201 ? "{\"accepted\":1}" : "{\"error\":{\"code\":\"x\"}}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        http.start();
    }

    PostReceiver() throws IOException {
        this(0);
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
    }

    int port() {
        return http.getAddress().getPort();
    }

    /** The next posts get these statuses, in order; after them 201. */
    synchronized void answer(Integer... statuses) {
        script.addAll(List.of(statuses));
    }

    synchronized List<Received> posts() {
        return new ArrayList<>(posts);
    }

    /** The first post from the {@code from}-th on that matches, waiting up to {@code timeout}. */
    synchronized Received await(int from, Predicate<Received> match, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        for (;;) {
            for (int i = from; i < posts.size(); i++)
                if (match.test(posts.get(i)))
                    return posts.get(i);
            long left = end - System.nanoTime();
            if (left <= 0)
                throw new AssertionError("no matching post within " + timeout + "; got " + posts);
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Waits until at least {@code n} posts arrived. */
    synchronized List<Received> awaitCount(int n, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (posts.size() < n) {
            long left = end - System.nanoTime();
            if (left <= 0)
                throw new AssertionError("expected " + n + " posts within " + timeout + "; got " + posts);
            wait(Math.max(1, left / 1_000_000));
        }
        return new ArrayList<>(posts);
    }

    /** Object 10240 instance 0 resource {@code id} of a single post, or of a registration composite post. */
    static boolean isRegistrationResource(Received r, int id) {
        JsonNode val = r.body.path("val");
        if (r.path.endsWith("/single"))
            return r.body.path("obj_id").asInt() == 10240 && val.path("id").asInt() == id;
        for (JsonNode res : val.path("/10240").path("instances").path(0).path("resources"))
            if (res.path("id").asInt() == id)
                return true;
        return false;
    }

    @Override
    public void close() {
        http.stop(0);
        ((java.util.concurrent.ExecutorService) http.getExecutor()).shutdownNow();
    }
}

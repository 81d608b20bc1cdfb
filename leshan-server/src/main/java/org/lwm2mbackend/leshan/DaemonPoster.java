package org.lwm2mbackend.leshan;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts JSON to the daemon, one at a time and in the order they were handed over (so the order per endpoint is kept),
 * from a bounded FIFO queue: 2xx delivered; 4xx refused for good (logged, counted, not retried); any other status,
 * a refused connection or a timeout retried with exponential backoff, the post staying at the head of the queue.
 * While the daemon is down the queue fills; when it is full the oldest post still waiting is dropped and counted (the
 * one at the head, being retried, is kept: it may already be on its way).
 */
public final class DaemonPoster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonPoster.class);

    /** One post: the path under the daemon's base URL, the endpoint it is about (for the log), the JSON body. */
    record Post(String path, String endpoint, byte[] body) {
    }

    private final URI base;
    private final int capacity;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final ArrayDeque<Post> queue = new ArrayDeque<>();
    private final Thread sender;
    /** What the backoff waits on: only close() wakes it, new posts do not. */
    private final Object stopLock = new Object();
    private volatile boolean closed;
    /** The post the sender holds (sending or waiting to retry), guarded by the queue's lock. */
    private Post sending;

    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();

    public DaemonPoster(URI base, int capacity, Duration firstBackoff, Duration maxBackoff, Duration requestTimeout) {
        if (capacity < 1)
            throw new IllegalArgumentException("the post queue needs room for at least one post");
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        this.capacity = capacity;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(requestTimeout).version(HttpClient.Version.HTTP_1_1).build();
        this.sender = new Thread(this::run, "daemon-poster");
        this.sender.setDaemon(true);
        this.sender.start();
    }

    /** Queues a post; never blocks. When the queue is full the oldest post is dropped (counted, logged). */
    public void post(String path, String endpoint, JsonNode body) {
        Post p = new Post(path, endpoint, body.toString().getBytes(StandardCharsets.UTF_8));
        Post lost = null;
        synchronized (queue) {
            if (closed)
                return;
            if (queue.size() >= capacity) {
                // the head may be on its way (it can no longer be taken back): drop the oldest one still waiting
                if (sending != null && queue.peekFirst() == sending && queue.size() > 1) {
                    Iterator<Post> it = queue.iterator();
                    it.next();
                    lost = it.next();
                    it.remove();
                } else {
                    lost = queue.pollFirst();
                }
            }
            queue.addLast(p);
            queue.notifyAll();
        }
        if (lost != null) {
            long n = dropped.incrementAndGet();
            LOG.warn("post queue full ({} posts): dropped the oldest, {} for {} ({} dropped so far)", capacity, lost.path,
                    lost.endpoint, n);
        }
    }

    public long delivered() {
        return delivered.get();
    }

    public long refused() {
        return refused.get();
    }

    public long dropped() {
        return dropped.get();
    }

    public long retries() {
        return retries.get();
    }

    public int queued() {
        synchronized (queue) {
            return queue.size();
        }
    }

    private void run() {
        Duration backoff = firstBackoff;
        while (true) {
            Post head;
            synchronized (queue) {
                while (queue.isEmpty() && !closed)
                    waitOn(queue, 0);
                if (queue.isEmpty())
                    return;
                head = queue.peekFirst();
                sending = head;
            }
            Outcome outcome = send(head);
            if (outcome == Outcome.RETRY) {
                retries.incrementAndGet();
                synchronized (stopLock) {
                    if (closed)
                        return;
                    waitOn(stopLock, backoff.toMillis());
                }
                backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
                continue;
            }
            backoff = firstBackoff;
            synchronized (queue) {
                // the head may have been dropped meanwhile (queue full): remove it only if it is still there
                if (queue.peekFirst() == head)
                    queue.pollFirst();
                sending = null;
                queue.notifyAll();
            }
        }
    }

    private enum Outcome {
        DONE, RETRY
    }

    private Outcome send(Post p) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + p.path)).timeout(requestTimeout)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(p.body))
                .build();
        try {
            HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
            int status = res.statusCode();
            if (status >= 200 && status < 300) {
                delivered.incrementAndGet();
                return Outcome.DONE;
            }
            if (status >= 400 && status < 500 && status != 408 && status != 429) {
                long n = refused.incrementAndGet();
                LOG.warn("daemon refused {} for {} with {} ({} refused so far): {}", p.path, p.endpoint, status, n,
                        abbreviate(res.body()));
                return Outcome.DONE;
            }
            LOG.info("daemon answered {} to {} for {}: will retry", status, p.path, p.endpoint);
            return Outcome.RETRY;
        } catch (IOException e) {
            LOG.info("daemon unreachable for {} ({}): will retry", p.path, e.toString());
            return Outcome.RETRY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.RETRY;
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    private static void waitOn(Object lock, long ms) {
        try {
            lock.wait(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to {@code grace} for the queue to drain, then stops; posts still queued are lost (logged). */
    public void close(Duration grace) {
        long end = System.nanoTime() + grace.toNanos();
        synchronized (queue) {
            while (!queue.isEmpty() && System.nanoTime() < end)
                waitOn(queue, Math.max(1, (end - System.nanoTime()) / 1_000_000));
            if (!queue.isEmpty())
                LOG.warn("stopping with {} posts not delivered", queue.size());
            closed = true;
            queue.clear();
            queue.notifyAll();
        }
        synchronized (stopLock) {
            stopLock.notifyAll();
        }
        sender.interrupt();
    }

    @Override
    public void close() {
        close(Duration.ZERO);
    }
}

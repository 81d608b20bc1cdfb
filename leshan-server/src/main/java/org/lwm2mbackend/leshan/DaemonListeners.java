package org.lwm2mbackend.leshan;

import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.node.TimestampedLwM2mNode;
import org.eclipse.leshan.core.node.TimestampedLwM2mNodes;
import org.eclipse.leshan.core.observation.CompositeObservation;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.observation.SingleObservation;
import org.eclipse.leshan.core.request.SendRequest;
import org.eclipse.leshan.core.response.ObserveCompositeResponse;
import org.eclipse.leshan.core.response.ObserveResponse;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.observation.ObservationListener;
import org.eclipse.leshan.server.queue.PresenceListener;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.send.SendListener;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what Leshan sees into posts to the daemon, and nothing else: registration, update and deregistration;
 * awake and sleeping; every notification (single, composite, with or without timestamps); every Send with all its
 * timestamps. No application logic: what to store and what to do is the daemon's.
 */
public final class DaemonListeners implements RegistrationListener, PresenceListener, ObservationListener, SendListener {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonListeners.class);

    private final DaemonPoster poster;
    private final LongSupplier clock;

    public DaemonListeners(DaemonPoster poster, LongSupplier clock) {
        this.poster = poster;
        this.clock = clock;
    }

    /** Adds the listeners to the server's registration, presence, observation and send services. */
    public void attach(LeshanServer server) {
        server.getRegistrationService().addListener(this);
        server.getPresenceService().addListener(this);
        server.getObservationService().addListener(this);
        server.getSendService().addListener(this);
    }

    // registrations

    @Override
    public void registered(Registration registration, Registration previousReg, Collection<Observation> previousObservations) {
        poster.post(DaemonPosts.COMPOSITE, registration.getEndpoint(),
                DaemonPosts.registration(registration, DaemonPosts.REGISTERED));
    }

    @Override
    public void updated(RegistrationUpdate update, Registration updatedReg, Registration previousReg) {
        poster.post(DaemonPosts.COMPOSITE, updatedReg.getEndpoint(), DaemonPosts.registration(updatedReg, DaemonPosts.UPDATED));
    }

    @Override
    public void unregistered(Registration registration, Collection<Observation> observations, boolean expired,
            Registration newReg) {
        // also on a re-registration (newReg set), which registered() then announces, as the stock event stream does
        poster.post(DaemonPosts.SINGLE, registration.getEndpoint(), DaemonPosts.registrationTime(registration.getEndpoint(),
                DaemonPosts.DEREGISTERED, registration.getRegistrationDate().getTime()));
    }

    // presence

    @Override
    public void onAwake(Registration registration) {
        poster.post(DaemonPosts.SINGLE, registration.getEndpoint(),
                DaemonPosts.registrationTime(registration.getEndpoint(), DaemonPosts.AWAKE, clock.getAsLong()));
    }

    @Override
    public void onSleeping(Registration registration) {
        poster.post(DaemonPosts.SINGLE, registration.getEndpoint(),
                DaemonPosts.registrationTime(registration.getEndpoint(), DaemonPosts.SLEEPING, clock.getAsLong()));
    }

    // notifications

    @Override
    public void onResponse(SingleObservation observation, Registration registration, ObserveResponse response) {
        if (registration == null)
            return;
        String ep = registration.getEndpoint();
        List<TimestampedLwM2mNode> history = response.getTimestampedLwM2mNodes();
        TimestampedLwM2mNode one = response.getTimestampedLwM2mNode();
        if (history != null && !history.isEmpty()) {
            ObjectNode body = DaemonPosts.timestamped(ep);
            for (TimestampedLwM2mNode t : history)
                DaemonPosts.addTimestamp(body, t.getTimestamp(), singleton(observation.getPath(), t.getNode()));
            poster.post(DaemonPosts.TIMESTAMPED, ep, body);
        } else if (one != null && one.isTimestamped()) {
            ObjectNode body = DaemonPosts.timestamped(ep);
            DaemonPosts.addTimestamp(body, one.getTimestamp(), singleton(observation.getPath(), one.getNode()));
            poster.post(DaemonPosts.TIMESTAMPED, ep, body);
        } else {
            poster.post(DaemonPosts.COMPOSITE, ep,
                    DaemonPosts.composite(ep, singleton(observation.getPath(), response.getContent())));
        }
    }

    @Override
    public void onResponse(CompositeObservation observation, Registration registration, ObserveCompositeResponse response) {
        if (registration == null)
            return;
        String ep = registration.getEndpoint();
        TimestampedLwM2mNodes timestamped = response.getTimestampedLwM2mNodes();
        if (timestamped == null)
            timestamped = response.getTimestampedLwM2mNode();
        if (timestamped != null && hasTimestamp(timestamped)) {
            poster.post(DaemonPosts.TIMESTAMPED, ep, timestampedBody(ep, timestamped));
            return;
        }
        // every observed path, null where the device left it out
        Map<LwM2mPath, LwM2mNode> nodes = new LinkedHashMap<>();
        Map<LwM2mPath, LwM2mNode> content = response.getContent();
        for (LwM2mPath path : observation.getPaths())
            nodes.put(path, content == null ? null : content.get(path));
        if (content != null)
            content.forEach(nodes::putIfAbsent);
        poster.post(DaemonPosts.COMPOSITE, ep, DaemonPosts.composite(ep, nodes));
    }

    @Override
    public void onError(Observation observation, Registration registration, Exception error) {
        LOG.warn("notification from {} could not be read: {}", registration == null ? "?" : registration.getEndpoint(),
                error.toString());
    }

    @Override
    public void newObservation(Observation observation, Registration registration) {
    }

    @Override
    public void cancelled(Observation observation) {
    }

    // Send

    @Override
    public void dataReceived(Registration registration, TimestampedLwM2mNodes data, SendRequest request) {
        if (registration == null || data == null || data.isEmpty())
            return;
        poster.post(DaemonPosts.TIMESTAMPED, registration.getEndpoint(), timestampedBody(registration.getEndpoint(), data));
    }

    @Override
    public void onError(Registration registration, String errorMessage, Exception error) {
        LOG.warn("Send from {} could not be read: {}", registration == null ? "?" : registration.getEndpoint(),
                errorMessage);
    }

    private static ObjectNode timestampedBody(String ep, TimestampedLwM2mNodes data) {
        ObjectNode body = DaemonPosts.timestamped(ep);
        for (Instant t : data.getTimestamps())
            DaemonPosts.addTimestamp(body, t, data.getNodesAt(t));
        return body;
    }

    private static boolean hasTimestamp(TimestampedLwM2mNodes data) {
        for (Instant t : data.getTimestamps())
            if (t != null)
                return true;
        return false;
    }

    private static Map<LwM2mPath, LwM2mNode> singleton(LwM2mPath path, LwM2mNode node) {
        Map<LwM2mPath, LwM2mNode> m = new LinkedHashMap<>();
        m.put(path, node);
        return m;
    }
}

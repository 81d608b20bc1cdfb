package org.lwm2mbackend.leshan;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.http.HttpServletRequest;

import org.eclipse.jetty.ee10.servlets.EventSource;
import org.eclipse.jetty.ee10.servlets.EventSourceServlet;
import org.eclipse.leshan.core.node.LwM2mPath;
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
import org.eclipse.leshan.server.queue.PresenceService;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.send.SendListener;

/**
 * GET /api/event[?ep=X]: the stock demo's server-sent event stream (docs/leshan-rest-api.md §5.3) on Jetty's
 * EventSourceServlet (Accept: text/event-stream, CRLF framing, a heartbeat every 10 s). Events REGISTRATION, UPDATED,
 * DEREGISTRATION, AWAKE, SLEEPING, NOTIFICATION (single and composite), SEND (the most recent value per path, as the
 * stock demo gives it; the daemon's posts carry every timestamp) and REQUEST_RESPONSE (a delayed request's answer).
 */
public final class EventStreamServlet extends EventSourceServlet
        implements RegistrationListener, PresenceListener, ObservationListener, SendListener {
    private static final long serialVersionUID = 1L;
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final transient PresenceService presence;
    private final transient Set<Stream> streams = ConcurrentHashMap.newKeySet();

    public EventStreamServlet(LeshanServer server) {
        this.presence = server.getPresenceService();
        server.getRegistrationService().addListener(this);
        server.getPresenceService().addListener(this);
        server.getObservationService().addListener(this);
        server.getSendService().addListener(this);
    }

    /** One open stream, for every endpoint or only {@code ep}. */
    private final class Stream implements EventSource {
        private final String endpoint;
        private volatile Emitter emitter;

        Stream(String endpoint) {
            this.endpoint = endpoint;
        }

        @Override
        public void onOpen(Emitter e) {
            emitter = e;
            streams.add(this);
        }

        @Override
        public void onClose() {
            streams.remove(this);
        }

        void send(String event, String data, String ep) {
            Emitter e = emitter;
            if (e == null || (endpoint != null && !endpoint.equals(ep)))
                return;
            try {
                e.event(event, data);
            } catch (IOException ex) {
                streams.remove(this);
                e.close();
            }
        }
    }

    @Override
    protected EventSource newEventSource(HttpServletRequest request) {
        return new Stream(request.getParameter("ep"));
    }

    /** Sends one event to every stream open for all endpoints or for {@code endpoint}. */
    public synchronized void publish(String event, ObjectNode data, String endpoint) {
        String text = data.toString();
        for (Stream s : streams)
            s.send(event, text, endpoint);
    }

    @Override
    public void registered(Registration reg, Registration previousReg, Collection<Observation> previousObservations) {
        publish("REGISTRATION", RegistrationJson.write(reg, presence), reg.getEndpoint());
    }

    @Override
    public void updated(RegistrationUpdate update, Registration updatedReg, Registration previousReg) {
        ObjectNode data = F.objectNode();
        data.set("registration", RegistrationJson.write(updatedReg, presence));
        data.set("update", RegistrationJson.writeUpdate(update));
        publish("UPDATED", data, updatedReg.getEndpoint());
    }

    @Override
    public void unregistered(Registration reg, Collection<Observation> observations, boolean expired, Registration newReg) {
        publish("DEREGISTRATION", RegistrationJson.write(reg, presence), reg.getEndpoint());
    }

    @Override
    public void onAwake(Registration reg) {
        publish("AWAKE", F.objectNode().put("ep", reg.getEndpoint()), reg.getEndpoint());
    }

    @Override
    public void onSleeping(Registration reg) {
        publish("SLEEPING", F.objectNode().put("ep", reg.getEndpoint()), reg.getEndpoint());
    }

    @Override
    public void onResponse(SingleObservation observation, Registration reg, ObserveResponse response) {
        if (reg == null)
            return;
        ObjectNode data = F.objectNode().put("ep", reg.getEndpoint()).put("kind", "single")
                .put("res", observation.getPath().toString());
        data.set("val", NodeJson.write(response.getContent()));
        publish("NOTIFICATION", data, reg.getEndpoint());
    }

    @Override
    public void onResponse(CompositeObservation observation, Registration reg, ObserveCompositeResponse response) {
        if (reg == null)
            return;
        ObjectNode data = F.objectNode().put("ep", reg.getEndpoint()).put("kind", "composite");
        data.set("val", ResponseJson.pathNodes(response.getContent()));
        ArrayNode paths = data.putArray("paths");
        List<String> list = new ArrayList<>();
        for (LwM2mPath p : observation.getPaths())
            list.add(p.toString());
        list.forEach(paths::add);
        publish("NOTIFICATION", data, reg.getEndpoint());
    }

    @Override
    public void onError(Observation observation, Registration registration, Exception error) {
    }

    @Override
    public void newObservation(Observation observation, Registration registration) {
    }

    @Override
    public void cancelled(Observation observation) {
    }

    @Override
    public void dataReceived(Registration reg, TimestampedLwM2mNodes data, SendRequest request) {
        if (reg == null || data == null || data.isEmpty())
            return;
        ObjectNode event = F.objectNode().put("ep", reg.getEndpoint());
        event.set("val", ResponseJson.pathNodes(data.getMostRecentNodes()));
        publish("SEND", event, reg.getEndpoint());
    }

    @Override
    public void onError(Registration registration, String errorMessage, Exception error) {
    }
}

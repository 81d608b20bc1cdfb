package org.lwm2mbackend.leshan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.eclipse.leshan.core.link.attributes.InvalidAttributeException;
import org.eclipse.leshan.core.link.lwm2m.attributes.DefaultLwM2mAttributeParser;
import org.eclipse.leshan.core.link.lwm2m.attributes.LwM2mAttributeSet;
import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mObjectInstance;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.node.codec.CodecException;
import org.eclipse.leshan.core.observation.CompositeObservation;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.observation.SingleObservation;
import org.eclipse.leshan.core.request.CancelCompositeObservationRequest;
import org.eclipse.leshan.core.request.CancelObservationRequest;
import org.eclipse.leshan.core.request.ContentFormat;
import org.eclipse.leshan.core.request.CreateRequest;
import org.eclipse.leshan.core.request.DeleteRequest;
import org.eclipse.leshan.core.request.DiscoverRequest;
import org.eclipse.leshan.core.request.DownlinkDeviceManagementRequest;
import org.eclipse.leshan.core.request.ExecuteRequest;
import org.eclipse.leshan.core.request.ObserveCompositeRequest;
import org.eclipse.leshan.core.request.ObserveRequest;
import org.eclipse.leshan.core.request.ReadCompositeRequest;
import org.eclipse.leshan.core.request.ReadRequest;
import org.eclipse.leshan.core.request.SimpleDownlinkRequest;
import org.eclipse.leshan.core.request.WriteAttributesRequest;
import org.eclipse.leshan.core.request.WriteCompositeRequest;
import org.eclipse.leshan.core.request.WriteRequest;
import org.eclipse.leshan.core.request.WriteRequest.Mode;
import org.eclipse.leshan.core.request.exception.ClientSleepingException;
import org.eclipse.leshan.core.request.exception.InvalidRequestException;
import org.eclipse.leshan.core.request.exception.InvalidResponseException;
import org.eclipse.leshan.core.request.exception.RequestCanceledException;
import org.eclipse.leshan.core.request.exception.RequestRejectedException;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.registration.Registration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * /api/clients: the stock demo's REST API for operators (docs/leshan-rest-api.md §1-§4): registrations, read,
 * discover, write, write-attributes, execute, create, delete, observe and cancel (passive, or active with ?active),
 * and their composite forms, with ?timeout= (seconds, 5 by default) and ?format=. A device's answer, whatever its
 * code, is 200 with the response JSON; a timeout 504 "Request timeout"; an unknown endpoint 400; a request for a
 * sleeping queue-mode client is kept and answered 200 {"delayed":true,...} at once, its answer coming later as a
 * REQUEST_RESPONSE event (or, with --delayed-requests false, refused with 400 "... client is sleeping ...").
 */
public final class ClientsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ClientsServlet.class);
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final long DEFAULT_TIMEOUT_MS = 5000;

    private final transient LeshanServer server;
    private final transient DelayedRequests delayed;
    private final transient EventStreamServlet events;
    private final transient ObjectMapper mapper = new ObjectMapper();

    /** {@code keepDelayed}: keep requests for sleeping clients (the stock demo since M17), else refuse them (400). */
    public ClientsServlet(LeshanServer server, EventStreamServlet events, boolean keepDelayed) {
        this.server = server;
        this.events = events;
        this.delayed = new DelayedRequests(server, keepDelayed);
    }

    /** An answer that is not a device's: a status and a plain-text message. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** The request's path: the endpoint and the segments after it. */
    private record Target(Registration registration, String[] rest) {
        String lwm2mPath(int dropLast) {
            return "/" + String.join("/", Arrays.copyOfRange(rest, 0, rest.length - dropLast));
        }

        boolean endsWith(String last) {
            return rest.length > 0 && rest[rest.length - 1].equals(last);
        }

        boolean is(String... segments) {
            return Arrays.equals(rest, segments);
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (req.getPathInfo() == null || req.getPathInfo().equals("/")) {
            ArrayNode all = F.arrayNode();
            for (Iterator<Registration> it = server.getRegistrationService().getAllRegistrations(); it.hasNext();)
                all.add(RegistrationJson.write(it.next(), server.getPresenceService()));
            json(resp, all);
            return;
        }
        handle(req, resp, t -> {
            if (t.rest.length == 0) {
                json(resp, RegistrationJson.write(t.registration, server.getPresenceService()));
            } else if (t.is("composite")) {
                send(req, resp, t, new ReadCompositeRequest(format(req, "pathformat"), format(req, "nodeformat"),
                        paths(req)));
            } else if (t.rest.length >= 2 && t.endsWith("discover")) {
                send(req, resp, t, new DiscoverRequest(t.lwm2mPath(1)));
            } else {
                send(req, resp, t, new ReadRequest(format(req, "format"), t.lwm2mPath(0)));
            }
        });
    }

    @Override
    protected void doPut(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        handle(req, resp, t -> {
            if (t.is("composite")) {
                JsonNode body = body(req);
                if (!body.isObject())
                    throw new InvalidRequestException("a composite write takes an object of path → node");
                Map<LwM2mPath, LwM2mNode> nodes = new HashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> e = it.next();
                    nodes.put(new LwM2mPath(e.getKey()), NodeJson.read(e.getValue()));
                }
                send(req, resp, t, new WriteCompositeRequest(format(req, "nodeformat"), nodes, null));
            } else if (t.rest.length < 2) {
                throw new Refusal(400, "Invalid path");
            } else if (t.endsWith("attributes")) {
                LwM2mAttributeSet attributes;
                try {
                    attributes = new LwM2mAttributeSet(new DefaultLwM2mAttributeParser().parseUriQuery(req.getQueryString()));
                } catch (InvalidAttributeException e) {
                    throw new Refusal(400, "Invalid attributes: " + e.getMessage());
                }
                send(req, resp, t, new WriteAttributesRequest(t.lwm2mPath(1), attributes));
            } else {
                String replace = req.getParameter("replace");
                Mode mode = replace == null || Boolean.parseBoolean(replace) ? Mode.REPLACE : Mode.UPDATE;
                send(req, resp, t, new WriteRequest(mode, format(req, "format"), t.lwm2mPath(0), node(req, t)));
            }
        });
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        handle(req, resp, t -> {
            if (t.is("composite", "observe")) {
                send(req, resp, t, new ObserveCompositeRequest(format(req, "pathformat"), format(req, "nodeformat"),
                        paths(req).toArray(new String[0])));
            } else if (t.rest.length >= 2 && t.endsWith("observe")) {
                send(req, resp, t, new ObserveRequest(format(req, "format"), t.lwm2mPath(1)));
            } else if (t.rest.length == 3) {
                String arguments = req.getContentLength() > 0
                        ? new String(req.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                        : null;
                send(req, resp, t, new ExecuteRequest(t.lwm2mPath(0), arguments));
            } else if (t.rest.length == 1 || t.rest.length == 2) {
                LwM2mNode node = node(req, t);
                if (!(node instanceof LwM2mObjectInstance instance))
                    throw new InvalidRequestException("payload must contain an object instance");
                CreateRequest create = instance.getId() == LwM2mObjectInstance.UNDEFINED
                        ? new CreateRequest(format(req, "format"), t.lwm2mPath(0), instance.getResources().values())
                        : new CreateRequest(format(req, "format"), t.lwm2mPath(0), instance);
                send(req, resp, t, create);
            } else {
                throw new Refusal(400, "Invalid path");
            }
        });
    }

    @Override
    protected void doDelete(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        handle(req, resp, t -> {
            boolean active = req.getParameter("active") != null;
            if (t.is("composite", "observe")) {
                String[] paths = paths(req).toArray(new String[0]);
                if (!active) {
                    server.getObservationService().cancelCompositeObservations(t.registration, paths);
                    resp.setStatus(200);
                    return;
                }
                Optional<Observation> found = observations(t).stream()
                        .filter(o -> o instanceof CompositeObservation c
                                && c.getPaths().equals(LwM2mPath.getLwM2mPathList(Arrays.asList(paths))))
                        .findFirst();
                if (found.isEmpty())
                    throw new Refusal(404, String.format("no composite observation for paths %s for  client '%s'",
                            Arrays.toString(paths), t.registration.getEndpoint()));
                CompletableFuture<LwM2mResponse> answer = send(req, resp, t,
                        new CancelCompositeObservationRequest((CompositeObservation) found.get()));
                answer.thenAccept(r -> {
                    if (r != null && r.isSuccess())
                        server.getObservationService().cancelCompositeObservations(t.registration, paths);
                });
            } else if (t.rest.length >= 2 && t.endsWith("observe")) {
                String path = t.lwm2mPath(1);
                if (!active) {
                    server.getObservationService().cancelObservations(t.registration, path);
                    resp.setStatus(200);
                    return;
                }
                LwM2mPath target = new LwM2mPath(path);
                Optional<Observation> found = observations(t).stream()
                        .filter(o -> o instanceof SingleObservation s && s.getPath().equals(target)).findFirst();
                if (found.isEmpty())
                    throw new Refusal(404, String.format("no observation for path %s for  client '%s'", path,
                            t.registration.getEndpoint()));
                CompletableFuture<LwM2mResponse> answer = send(req, resp, t,
                        new CancelObservationRequest((SingleObservation) found.get()));
                answer.thenAccept(r -> {
                    if (r != null && r.isSuccess())
                        server.getObservationService().cancelObservations(t.registration, path);
                });
            } else if (t.rest.length == 0) {
                throw new Refusal(400, "Invalid path");
            } else {
                send(req, resp, t, new DeleteRequest(t.lwm2mPath(0)));
            }
        });
    }

    private java.util.Set<Observation> observations(Target t) {
        return server.getObservationService().getObservations(t.registration);
    }

    private interface Route {
        void run(Target t) throws Refusal, IOException, InterruptedException;
    }

    /** Finds the registration, runs the route, and turns what went wrong into the stock demo's status and text. */
    private void handle(HttpServletRequest req, HttpServletResponse resp, Route route) throws IOException {
        String info = req.getPathInfo() == null ? "" : req.getPathInfo();
        String[] segments = Arrays.stream(info.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
        try {
            if (segments.length == 0)
                throw new Refusal(400, "Invalid path");
            Registration reg = server.getRegistrationService().getByEndpoint(segments[0]);
            if (reg == null)
                throw new Refusal(400, String.format("No registered client with id '%s'", segments[0]));
            route.run(new Target(reg, Arrays.copyOfRange(segments, 1, segments.length)));
        } catch (Refusal r) {
            text(resp, r.status, r.getMessage());
        } catch (InvalidRequestException | CodecException | ClientSleepingException | IllegalArgumentException e) {
            LOG.warn("Invalid request {} {}: {}", req.getMethod(), info, e.getMessage());
            text(resp, 400, "Invalid request: " + e.getMessage());
        } catch (RequestRejectedException e) {
            text(resp, 500, "Request rejected: " + e.getMessage());
        } catch (RequestCanceledException e) {
            text(resp, 500, "Request cancelled: " + e.getMessage());
        } catch (InvalidResponseException e) {
            text(resp, 500, "Invalid Response: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            text(resp, 500, "Unexpected exception: interrupted");
        } catch (RuntimeException e) {
            LOG.warn("Unexpected exception on {} {}", req.getMethod(), info, e);
            text(resp, 500, "Unexpected exception: " + e.getMessage());
        }
    }

    /**
     * Sends the request (kept for later when the client sleeps) and writes the answer: the device's response (200),
     * 504 when it did not answer in time, or 200 {"delayed":true} with a request id when the request was kept.
     */
    private CompletableFuture<LwM2mResponse> send(HttpServletRequest req, HttpServletResponse resp, Target t,
            DownlinkDeviceManagementRequest<?> request) throws IOException, InterruptedException {
        CompletableFuture<LwM2mResponse> answer = delayed.send(t.registration, request, timeout(req));
        if (answer.isDone()) {
            LwM2mResponse r;
            try {
                r = answer.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re)
                    throw re;
                throw new IllegalStateException(e.getCause());
            }
            if (r == null) {
                LOG.warn("{} {} timed out", req.getMethod(), req.getPathInfo());
                text(resp, 504, "Request timeout");
            } else {
                json(resp, ResponseJson.write(r));
            }
            return answer;
        }
        String requestId = UUID.randomUUID().toString();
        String ep = t.registration.getEndpoint();
        String path = request instanceof SimpleDownlinkRequest<?> simple ? simple.getPath().toString() : null;
        answer.thenAccept(r -> events.publish("REQUEST_RESPONSE", delayedAnswer(ep, path, requestId, r), ep));
        json(resp, delayedAnswer(ep, path, requestId, null));
        return answer;
    }

    /**
     * The stock demo's ResponseDelayed as its mapper writes it (public fields in declaration order, nulls left out):
     * ep, path, requestId, response (in the event, once the device answered), delayed.
     */
    private static ObjectNode delayedAnswer(String ep, String path, String requestId, LwM2mResponse response) {
        ObjectNode o = F.objectNode().put("ep", ep);
        if (path != null)
            o.put("path", path);
        o.put("requestId", requestId);
        if (response != null)
            o.set("response", ResponseJson.write(response));
        return o.put("delayed", true);
    }

    private LwM2mNode node(HttpServletRequest req, Target t) throws IOException {
        String type = req.getContentType() == null ? "" : req.getContentType().split(";")[0].trim();
        if (type.equals("application/json"))
            return NodeJson.read(body(req));
        if (type.equals("text/plain")) {
            String last = t.rest[t.rest.length - 1];
            return LwM2mSingleResource.newStringResource(Integer.parseInt(last),
                    new String(req.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        throw new InvalidRequestException("content type %s not supported", req.getContentType());
    }

    private JsonNode body(HttpServletRequest req) throws IOException {
        try {
            return mapper.readTree(req.getInputStream());
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("unable to parse json to tlv:%s", e.getOriginalMessage());
        }
    }

    private static ContentFormat format(HttpServletRequest req, String param) {
        String name = req.getParameter(param);
        return name == null ? null : ContentFormat.fromName(name.toUpperCase());
    }

    private static java.util.List<String> paths(HttpServletRequest req) throws Refusal {
        String paths = req.getParameter("paths");
        if (paths == null || paths.isEmpty())
            throw new Refusal(400, "Invalid request: the paths parameter is required");
        return Arrays.asList(paths.split(","));
    }

    private static long timeout(HttpServletRequest req) {
        String s = req.getParameter("timeout");
        if (s == null)
            return DEFAULT_TIMEOUT_MS;
        try {
            return Long.parseLong(s) * 1000;
        } catch (NumberFormatException e) {
            return DEFAULT_TIMEOUT_MS;
        }
    }

    private static void json(HttpServletResponse resp, JsonNode body) throws IOException {
        resp.setStatus(200);
        resp.setContentType("application/json");
        resp.getOutputStream().write(body.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void text(HttpServletResponse resp, int status, String message) throws IOException {
        resp.setStatus(status);
        resp.setContentType("text/plain; charset=UTF-8");
        resp.getWriter().append(message).flush();
    }
}

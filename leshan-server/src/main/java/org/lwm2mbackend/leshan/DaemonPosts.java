package org.lwm2mbackend.leshan;

import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.request.BindingMode;
import org.eclipse.leshan.server.registration.Registration;

/**
 * The bodies of the posts to the daemon (docs/leshan-server.md, "What it posts"). Registration events are object 10240
 * instance 0: 0 registered, 1 deregistered, 2 updated (each the registration date in ms), 3 awake, 4 sleeping (the
 * event time in ms), 5 queue mode, 6 binding, 7 object links, 8 lifetime.
 */
public final class DaemonPosts {
    public static final String SINGLE = "/leshan_api/resource/single";
    public static final String COMPOSITE = "/leshan_api/resource/composite";
    public static final String TIMESTAMPED = "/leshan_api/resource/timestamped";

    public static final int REGISTRATION_OBJECT = 10240;
    public static final int REGISTERED = 0;
    public static final int DEREGISTERED = 1;
    public static final int UPDATED = 2;
    public static final int AWAKE = 3;
    public static final int SLEEPING = 4;
    public static final int QUEUE_MODE = 5;
    public static final int BINDING = 6;
    public static final int OBJECT_LINKS = 7;
    public static final int LIFETIME = 8;

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private DaemonPosts() {
    }

    /** Registered ({@code resource} 0) or updated (2): composite, with queue mode, binding, links and lifetime. */
    public static ObjectNode registration(Registration r, int resource) {
        ObjectNode instance = F.objectNode().put("kind", "instance").put("id", 0);
        ArrayNode resources = instance.putArray("resources");
        resources.add(resource(resource, "TIME").put("value", r.getRegistrationDate().getTime()));
        resources.add(resource(QUEUE_MODE, "BOOLEAN").put("value", r.usesQueueMode()));
        resources.add(resource(BINDING, "STRING").put("value", BindingMode.toString(r.getBindingMode())));
        resources.add(resource(OBJECT_LINKS, "STRING").put("value", RegistrationJson.coreLinks(r.getObjectLinks())));
        resources.add(resource(LIFETIME, "INTEGER").put("value", r.getLifeTimeInSec()));
        ObjectNode obj = F.objectNode().put("kind", "obj").put("id", REGISTRATION_OBJECT);
        obj.putArray("instances").add(instance);
        ObjectNode body = F.objectNode().put("ep", r.getEndpoint());
        body.putObject("val").set("/" + REGISTRATION_OBJECT, obj);
        return body;
    }

    /** A single TIME resource of object 10240: deregistered (the registration date), awake or sleeping (now). */
    public static ObjectNode registrationTime(String endpoint, int resource, long ms) {
        ObjectNode body = F.objectNode().put("ep", endpoint).put("obj_id", REGISTRATION_OBJECT);
        body.set("val", resource(resource, "TIME").put("value", ms));
        return body;
    }

    /** Values without timestamps, keyed by path; a null node stays null (a path the device left out). */
    public static ObjectNode composite(String endpoint, Map<LwM2mPath, LwM2mNode> nodes) {
        ObjectNode body = F.objectNode().put("ep", endpoint);
        ObjectNode val = body.putObject("val");
        nodes.forEach((path, node) -> val.set(path.toString(), NodeJson.write(node)));
        return body;
    }

    /** An empty timestamped body; {@link #addTimestamp} adds one entry per timestamp, in the order given. */
    public static ObjectNode timestamped(String endpoint) {
        ObjectNode body = F.objectNode().put("ep", endpoint);
        body.putArray("val");
        return body;
    }

    /** One entry: {"<ISO-8601 instant>" or "null": {"nodes": {path: node}}}. */
    public static void addTimestamp(ObjectNode timestampedBody, Instant timestamp, Map<LwM2mPath, LwM2mNode> nodes) {
        ObjectNode nodesJson = F.objectNode();
        nodes.forEach((path, node) -> nodesJson.set(path.toString(), NodeJson.write(node)));
        ObjectNode entry = F.objectNode();
        entry.putObject(timestamp == null ? "null" : timestamp.toString()).set("nodes", nodesJson);
        ((ArrayNode) timestampedBody.get("val")).add(entry);
    }

    private static ObjectNode resource(int id, String type) {
        return F.objectNode().put("kind", "singleResource").put("id", id).put("type", type);
    }
}

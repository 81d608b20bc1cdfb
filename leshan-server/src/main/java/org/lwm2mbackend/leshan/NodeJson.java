package org.lwm2mbackend.leshan;

import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.leshan.core.link.Link;
import org.eclipse.leshan.core.link.LinkParseException;
import org.eclipse.leshan.core.link.DefaultLinkParser;
import org.eclipse.leshan.core.model.ResourceModel.Type;
import org.eclipse.leshan.core.node.LwM2mMultipleResource;
import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mObject;
import org.eclipse.leshan.core.node.LwM2mObjectInstance;
import org.eclipse.leshan.core.node.LwM2mResource;
import org.eclipse.leshan.core.node.LwM2mResourceInstance;
import org.eclipse.leshan.core.node.LwM2mRoot;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.node.ObjectLink;
import org.eclipse.leshan.core.request.exception.InvalidRequestException;

/**
 * LwM2M nodes as the JSON of Leshan 2.x's demo server (docs/leshan-rest-api.md §2): kinds singleResource,
 * multiResource, resourceInstance, instance, obj, root; INTEGER, UNSIGNED_INTEGER and FLOAT as decimal strings,
 * TIME as a number of ms, OPAQUE as lower-case hex, OBJLNK as {objectId, objectInstanceId, nullLink}, CORELINK as
 * link-format text. Reading accepts what the stock demo accepts for write bodies (§2.2).
 */
public final class NodeJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private NodeJson() {
    }

    /** A node as JSON; null gives JSON null (a path the device left out). */
    public static JsonNode write(LwM2mNode node) {
        if (node == null)
            return F.nullNode();
        ObjectNode o = F.objectNode();
        if (node instanceof LwM2mRoot root) {
            o.put("kind", "root");
            var objects = o.putArray("objects");
            for (LwM2mObject obj : root.getObjects().values())
                objects.add(write(obj));
        } else if (node instanceof LwM2mObject obj) {
            o.put("id", obj.getId());
            o.put("kind", "obj");
            var instances = o.putArray("instances");
            for (LwM2mObjectInstance inst : obj.getInstances().values())
                instances.add(write(inst));
        } else if (node instanceof LwM2mObjectInstance inst) {
            o.put("id", inst.getId());
            o.put("kind", "instance");
            var resources = o.putArray("resources");
            for (LwM2mResource res : inst.getResources().values())
                resources.add(write(res));
        } else if (node instanceof LwM2mResource res && res.isMultiInstances()) {
            o.put("id", res.getId());
            o.put("kind", "multiResource");
            o.put("type", res.getType().name());
            ObjectNode values = o.putObject("values");
            for (Map.Entry<Integer, LwM2mResourceInstance> e : res.getInstances().entrySet())
                values.set(String.valueOf(e.getKey()), value(res.getType(), e.getValue().getValue()));
        } else if (node instanceof LwM2mResource res) {
            o.put("id", res.getId());
            o.put("kind", "singleResource");
            o.put("type", res.getType().name());
            o.set("value", value(res.getType(), res.getValue()));
        } else if (node instanceof LwM2mResourceInstance ri) {
            o.put("id", ri.getId());
            o.put("kind", "resourceInstance");
            o.put("type", ri.getType().name());
            o.set("value", value(ri.getType(), ri.getValue()));
        } else {
            throw new IllegalArgumentException("unknown node " + node.getClass().getName());
        }
        return o;
    }

    private static JsonNode value(Type type, Object v) {
        if (v == null)
            return F.nullNode();
        switch (type) {
        case INTEGER:
        case UNSIGNED_INTEGER:
        case FLOAT:
            return F.textNode(v.toString());
        case BOOLEAN:
            return F.booleanNode((Boolean) v);
        case TIME:
            return F.numberNode(((Date) v).getTime());
        case OPAQUE:
            return F.textNode(HexFormat.of().formatHex((byte[]) v));
        case OBJLNK: {
            ObjectLink l = (ObjectLink) v;
            ObjectNode o = F.objectNode();
            o.put("objectId", l.getObjectId());
            o.put("objectInstanceId", l.getObjectInstanceId());
            o.put("nullLink", l.isNullLink());
            return o;
        }
        case CORELINK: {
            StringBuilder b = new StringBuilder();
            for (Link link : (Link[]) v) {
                if (b.length() > 0)
                    b.append(',');
                b.append(link.toCoreLinkFormat());
            }
            return F.textNode(b.toString());
        }
        default:
            return F.textNode(v.toString());
        }
    }

    /**
     * A node from a JSON write body. The kind is taken from {@code kind} when present, else guessed from the keys
     * ({@code instances} obj, {@code resources} instance, {@code values} multiResource, {@code value} singleResource).
     * Bad input throws {@link InvalidRequestException} naming the field.
     */
    public static LwM2mNode read(JsonNode o) {
        if (o == null || !o.isObject())
            throw new InvalidRequestException("a node must be a JSON object");
        String kind = o.hasNonNull("kind") ? o.get("kind").asText() : guessKind(o);
        switch (kind) {
        case "obj": {
            List<LwM2mObjectInstance> instances = new ArrayList<>();
            for (JsonNode i : array(o, "instances"))
                instances.add((LwM2mObjectInstance) read(withKind(i, "instance")));
            return new LwM2mObject(id(o), instances);
        }
        case "instance": {
            List<LwM2mResource> resources = new ArrayList<>();
            for (JsonNode r : array(o, "resources")) {
                LwM2mNode n = read(r);
                if (!(n instanceof LwM2mResource res))
                    throw new InvalidRequestException("resources of an instance must be resources");
                resources.add(res);
            }
            return o.hasNonNull("id") ? new LwM2mObjectInstance(id(o), resources) : new LwM2mObjectInstance(resources);
        }
        case "multiResource": {
            Type type = type(o);
            JsonNode values = o.get("values");
            if (values == null || !values.isObject())
                throw new InvalidRequestException("'values' of a multiResource must be an object");
            Map<Integer, Object> map = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = values.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                int instanceId;
                try {
                    instanceId = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new InvalidRequestException("resource instance id '%s' is not an integer", e.getKey());
                }
                map.put(instanceId, readValue(type, e.getValue()));
            }
            return LwM2mMultipleResource.newResource(id(o), map, type);
        }
        case "singleResource": {
            Type type = type(o);
            return LwM2mSingleResource.newResource(id(o), readValue(type, o.get("value")), type);
        }
        case "resourceInstance": {
            Type type = type(o);
            return LwM2mResourceInstance.newInstance(id(o), readValue(type, o.get("value")), type);
        }
        default:
            throw new InvalidRequestException("unknown node kind '%s'", kind);
        }
    }

    private static String guessKind(JsonNode o) {
        if (o.has("instances"))
            return "obj";
        if (o.has("resources"))
            return "instance";
        if (o.has("values"))
            return "multiResource";
        if (o.has("value"))
            return "singleResource";
        throw new InvalidRequestException("a node needs 'kind' or one of instances, resources, values, value");
    }

    private static JsonNode withKind(JsonNode n, String kind) {
        if (n.isObject() && !n.has("kind"))
            return ((ObjectNode) n.deepCopy()).put("kind", kind);
        return n;
    }

    private static Iterable<JsonNode> array(JsonNode o, String field) {
        JsonNode a = o.get(field);
        if (a == null || !a.isArray())
            throw new InvalidRequestException("'%s' must be an array", field);
        return a;
    }

    private static int id(JsonNode o) {
        JsonNode id = o.get("id");
        if (id == null || !id.canConvertToInt() || !id.isIntegralNumber())
            throw new InvalidRequestException("'id' must be an integer");
        return id.intValue();
    }

    private static Type type(JsonNode o) {
        JsonNode t = o.get("type");
        if (t == null || !t.isTextual())
            throw new InvalidRequestException("'type' is required");
        try {
            return Type.valueOf(t.asText().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("unknown type '%s'", t.asText());
        }
    }

    private static Object readValue(Type type, JsonNode v) {
        if (v == null || v.isNull())
            throw new InvalidRequestException("'value' is required");
        try {
            switch (type) {
            case STRING:
                if (!v.isTextual())
                    break;
                return v.asText();
            case INTEGER:
                if (v.isIntegralNumber())
                    return v.longValue();
                if (v.isTextual())
                    return Long.parseLong(v.asText());
                break;
            case UNSIGNED_INTEGER:
                if (v.isIntegralNumber() || v.isTextual())
                    return org.eclipse.leshan.core.util.datatype.ULong.valueOf(v.asText());
                break;
            case FLOAT: {
                double d = v.isNumber() ? v.doubleValue() : v.isTextual() ? Double.parseDouble(v.asText()) : Double.NaN;
                if (Double.isNaN(d) || Double.isInfinite(d))
                    break;
                return d;
            }
            case BOOLEAN:
                if (!v.isBoolean())
                    break;
                return v.booleanValue();
            case TIME:
                if (!v.isIntegralNumber())
                    break;
                return new Date(v.longValue());
            case OPAQUE:
                if (!v.isTextual())
                    break;
                return HexFormat.of().parseHex(v.asText());
            case OBJLNK:
                if (!v.isObject() || !v.path("objectId").isIntegralNumber() || !v.path("objectInstanceId").isIntegralNumber())
                    break;
                return new ObjectLink(v.get("objectId").intValue(), v.get("objectInstanceId").intValue());
            case CORELINK:
                if (!v.isTextual())
                    break;
                return new DefaultLinkParser().parseCoreLinkFormat(v.asText().getBytes());
            default:
                break;
            }
        } catch (IllegalArgumentException | LinkParseException e) {
            throw new InvalidRequestException("'value' %s is not a valid %s: %s", v, type, e.getMessage());
        }
        throw new InvalidRequestException("'value' %s is not a valid %s", v, type);
    }
}

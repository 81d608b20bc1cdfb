package org.lwm2mbackend.leshan;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.leshan.core.link.Link;
import org.eclipse.leshan.core.link.attributes.Attribute;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.peer.LwM2mPeer;
import org.eclipse.leshan.core.request.BindingMode;
import org.eclipse.leshan.server.queue.PresenceService;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationUpdate;

/**
 * Registrations as GET /api/clients and the REGISTRATION / UPDATED / DEREGISTRATION events give them, in the stock
 * demo's field order (docs/leshan-rest-api.md §6): dates as ms, {@code sleeping} only for queue-mode clients.
 */
public final class RegistrationJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private RegistrationJson() {
    }

    public static ObjectNode write(Registration r, PresenceService presence) {
        ObjectNode o = F.objectNode();
        o.put("endpoint", r.getEndpoint());
        o.put("registrationId", r.getId());
        o.put("registrationDate", r.getRegistrationDate().getTime());
        o.put("lastUpdate", r.getLastUpdate().getTime());
        o.put("address", r.getAddress().getHostAddress() + ":" + r.getPort());
        if (r.getSmsNumber() != null)
            o.put("smsNumber", r.getSmsNumber());
        o.put("lwM2mVersion", r.getLwM2mVersion().toString());
        o.put("lifetime", r.getLifeTimeInSec());
        o.put("bindingMode", BindingMode.toString(r.getBindingMode()));
        o.put("rootPath", r.getRootPath());
        o.set("objectLinks", links(r.getObjectLinks()));
        o.put("secure", secure(r.getClientTransportData()));
        o.set("additionalRegistrationAttributes", strings(r.getAdditionalRegistrationAttributes()));
        o.put("queuemode", r.usesQueueMode());
        Map<Integer, Set<Integer>> available = new TreeMap<>();
        for (LwM2mPath p : r.getAvailableInstances())
            available.computeIfAbsent(p.getObjectId(), k -> new TreeSet<>()).add(p.getObjectInstanceId());
        ObjectNode av = o.putObject("availableInstances");
        available.forEach((obj, ids) -> {
            ArrayNode a = av.putArray(String.valueOf(obj));
            ids.forEach(a::add);
        });
        if (r.usesQueueMode())
            o.put("sleeping", !presence.isClientAwake(r));
        return o;
    }

    /** The {@code update} of an UPDATED event: unchanged fields (null) are left out. */
    public static ObjectNode writeUpdate(RegistrationUpdate u) {
        ObjectNode o = F.objectNode();
        o.put("registrationId", u.getRegistrationId());
        o.put("address", u.getAddress().getHostAddress() + ":" + u.getPort());
        if (u.getSmsNumber() != null)
            o.put("smsNumber", u.getSmsNumber());
        if (u.getLifeTimeInSec() != null)
            o.put("lifetime", u.getLifeTimeInSec());
        if (u.getAlternatePath() != null)
            o.put("alternatePath", u.getAlternatePath());
        if (u.getObjectLinks() != null)
            o.set("objectLinks", links(u.getObjectLinks()));
        o.put("secure", secure(u.getClientTransportData()));
        if (u.getAdditionalAttributes() != null)
            o.set("additionalAttributes", strings(u.getAdditionalAttributes()));
        return o;
    }

    /** Links as {"url","attributes"}; attribute values as their raw link-format text, a valueless one as null. */
    public static ArrayNode links(Link[] links) {
        ArrayNode a = F.arrayNode();
        if (links == null)
            return a;
        for (Link l : links) {
            ObjectNode o = a.addObject();
            o.put("url", l.getUriReference());
            ObjectNode attrs = o.putObject("attributes");
            for (Attribute at : l.getAttributes())
                attrs.put(at.getName(), at.hasValue() ? at.getCoreLinkValue() : null);
        }
        return a;
    }

    /** The registration's links in CoRE link format, as the client sent them (object 10240 resource 7). */
    public static String coreLinks(Link[] links) {
        StringBuilder b = new StringBuilder();
        if (links != null)
            for (Link l : links) {
                if (b.length() > 0)
                    b.append(',');
                b.append(l.toCoreLinkFormat());
            }
        return b.toString();
    }

    private static boolean secure(LwM2mPeer peer) {
        return peer != null && peer.getIdentity() != null && peer.getIdentity().isSecure();
    }

    private static JsonNode strings(Map<String, String> map) {
        ObjectNode o = F.objectNode();
        if (map != null)
            map.forEach(o::put);
        return o;
    }
}

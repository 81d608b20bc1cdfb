package org.lwm2mbackend.leshan;

import java.util.Map;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.response.CreateResponse;
import org.eclipse.leshan.core.response.DiscoverResponse;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.core.response.ReadCompositeResponse;
import org.eclipse.leshan.core.response.ReadResponse;

/**
 * A device's answer as the stock demo's REST API gives it (docs/leshan-rest-api.md §4): status "NAME(code)", valid,
 * success, failure, then content (a node, or path → node for composite operations), objectLinks (discover) or
 * location (create) when present, errormessage on a failure that carried one. Null fields are left out.
 */
public final class ResponseJson {
    private ResponseJson() {
    }

    public static ObjectNode write(LwM2mResponse r) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("status", r.getCode().toString());
        o.put("valid", r.isValid());
        o.put("success", r.isSuccess());
        o.put("failure", r.isFailure());
        if (r instanceof ReadResponse read) {
            if (read.getContent() != null)
                o.set("content", NodeJson.write(read.getContent()));
        } else if (r instanceof DiscoverResponse discover) {
            if (discover.getObjectLinks() != null)
                o.set("objectLinks", RegistrationJson.links(discover.getObjectLinks()));
        } else if (r instanceof CreateResponse create) {
            if (create.getLocation() != null)
                o.put("location", create.getLocation());
        } else if (r instanceof ReadCompositeResponse composite) {
            if (composite.getContent() != null)
                o.set("content", pathNodes(composite.getContent()));
        }
        if (r.isFailure() && r.getErrorMessage() != null && !r.getErrorMessage().isEmpty())
            o.put("errormessage", r.getErrorMessage());
        return o;
    }

    /** path → node; a null node is left out, as the stock demo's NON_NULL mapper does. */
    public static ObjectNode pathNodes(Map<LwM2mPath, LwM2mNode> nodes) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        nodes.forEach((path, node) -> {
            if (node != null)
                o.set(path.toString(), NodeJson.write(node));
        });
        return o;
    }
}

package org.lwm2mbackend.leshan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Date;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eclipse.leshan.core.model.ResourceModel.Type;
import org.eclipse.leshan.core.node.LwM2mMultipleResource;
import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mObject;
import org.eclipse.leshan.core.node.LwM2mObjectInstance;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.node.ObjectLink;
import org.eclipse.leshan.core.request.exception.InvalidRequestException;
import org.junit.jupiter.api.Test;

class NodeJsonTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static JsonNode json(String s) throws Exception {
        return M.readTree(s);
    }

    @Test
    void writesValuesAsTheStockDemoDoes() throws Exception {
        LwM2mObjectInstance inst = new LwM2mObjectInstance(0,
                LwM2mSingleResource.newFloatResource(5700, 21.5),
                LwM2mSingleResource.newIntegerResource(1, 300),
                LwM2mSingleResource.newBooleanResource(6, true),
                LwM2mSingleResource.newDateResource(13, new Date(1725000000000L)),
                LwM2mSingleResource.newBinaryResource(2, new byte[] { (byte) 0xca, (byte) 0xfe }),
                LwM2mSingleResource.newObjectLinkResource(22, new ObjectLink(3303, 0)),
                LwM2mMultipleResource.newIntegerResource(7, Map.of(0, 1L, 1, 5L)));
        JsonNode obj = NodeJson.write(new LwM2mObject(3, inst));
        assertEquals("obj", obj.get("kind").asText());
        Map<Integer, JsonNode> resources = new java.util.HashMap<>();
        for (JsonNode r : obj.get("instances").get(0).get("resources"))
            resources.put(r.get("id").asInt(), r);
        assertEquals(json("{\"id\":1,\"kind\":\"singleResource\",\"type\":\"INTEGER\",\"value\":\"300\"}"), resources.get(1));
        assertEquals(json("{\"id\":2,\"kind\":\"singleResource\",\"type\":\"OPAQUE\",\"value\":\"cafe\"}"), resources.get(2));
        assertEquals(json("{\"id\":6,\"kind\":\"singleResource\",\"type\":\"BOOLEAN\",\"value\":true}"), resources.get(6));
        assertEquals(json("{\"id\":7,\"kind\":\"multiResource\",\"type\":\"INTEGER\",\"values\":{\"0\":\"1\",\"1\":\"5\"}}"),
                resources.get(7));
        assertEquals(json("{\"id\":13,\"kind\":\"singleResource\",\"type\":\"TIME\",\"value\":1725000000000}"), resources.get(13));
        assertEquals(json("{\"objectId\":3303,\"objectInstanceId\":0,\"nullLink\":false}"), resources.get(22).get("value"));
        assertEquals("21.5", resources.get(5700).get("value").asText());
        assertTrue(NodeJson.write(null).isNull());
    }

    @Test
    void readsWriteBodiesBackIntoNodes() throws Exception {
        LwM2mNode n = NodeJson.read(json("{\"id\":5700,\"kind\":\"singleResource\",\"type\":\"float\",\"value\":\"21.5\"}"));
        assertEquals(LwM2mSingleResource.newFloatResource(5700, 21.5), n);
        LwM2mNode t = NodeJson.read(json("{\"id\":13,\"type\":\"TIME\",\"value\":1725000000000}"));
        assertEquals(LwM2mSingleResource.newDateResource(13, new Date(1725000000000L)), t);
        LwM2mNode m = NodeJson.read(json("{\"id\":6,\"kind\":\"multiResource\",\"type\":\"INTEGER\",\"values\":{\"0\":1,\"1\":\"5\"}}"));
        assertEquals(LwM2mMultipleResource.newResource(6, Map.of(0, 1L, 1, 5L), Type.INTEGER), m);
        LwM2mNode i = NodeJson.read(json("{\"kind\":\"instance\",\"resources\":[{\"id\":1,\"type\":\"INTEGER\",\"value\":\"60\"}]}"));
        assertEquals(LwM2mObjectInstance.UNDEFINED, ((LwM2mObjectInstance) i).getId());
    }

    @Test
    void refusesValuesOfTheWrongTypeNamingTheField() throws Exception {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> NodeJson.read(json("{\"id\":6,\"kind\":\"singleResource\",\"type\":\"BOOLEAN\",\"value\":\"true\"}")));
        assertTrue(e.getMessage().contains("'value'"), e.getMessage());
        assertThrows(InvalidRequestException.class,
                () -> NodeJson.read(json("{\"id\":6,\"kind\":\"singleResource\",\"value\":1}")));
        assertThrows(InvalidRequestException.class, () -> NodeJson.read(json("[1]")));
    }
}

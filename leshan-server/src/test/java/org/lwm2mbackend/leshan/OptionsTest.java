package org.lwm2mbackend.leshan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class OptionsTest {
    @Test
    void defaultsSuitAGateway() {
        Options o = Options.parse(new String[0], Map.of());
        assertEquals("http://127.0.0.1:8000", o.daemonUrl.toString());
        assertEquals("127.0.0.1", o.httpAddress);
        assertEquals(8080, o.httpPort);
        assertEquals("0.0.0.0", o.coapAddress);
        assertEquals(5683, o.coapPort);
        assertEquals(93, o.awakeTimeSeconds);
        assertNull(o.modelsFolder);
        assertEquals(10000, o.postQueueSize);
        assertTrue(o.delayedRequests, "requests for sleeping clients kept, as the stock demo keeps them");
    }

    @Test
    void theCommandLineWinsOverTheEnvironment() {
        Options o = Options.parse(new String[] { "--awake-time", "5", "--http-port=9090" },
                Map.of("LESHAN_AWAKE_TIME", "30", "LESHAN_COAP_PORT", "5700", "LESHAN_MODELS_FOLDER", "/models"));
        assertEquals(5, o.awakeTimeSeconds);
        assertEquals(9090, o.httpPort);
        assertEquals(5700, o.coapPort);
        assertEquals("/models", o.modelsFolder);
    }

    @Test
    void badValuesAreRefusedNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Options.parse(new String[] { "--coap-port", "70000" }, Map.of()));
        assertTrue(e.getMessage().startsWith("--coap-port"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Options.parse(new String[0], Map.of("LESHAN_DAEMON_URL", "ftp://x")));
        assertTrue(e.getMessage().startsWith("--daemon-url"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Options.parse(new String[] { "--delayed-requests", "no" }, Map.of()));
        assertTrue(e.getMessage().startsWith("--delayed-requests"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Options.parse(new String[] { "--nope" }, Map.of()));
        assertTrue(e.getMessage().contains("--nope"), e.getMessage());
        assertTrue(Options.parse(new String[] { "--help" }, Map.of()).help);
        assertTrue(Options.usage().contains("LESHAN_AWAKE_TIME"));
    }
}

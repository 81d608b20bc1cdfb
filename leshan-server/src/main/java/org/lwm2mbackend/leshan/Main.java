package org.lwm2mbackend.leshan;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the server from the command line and the environment (--help lists the options); stops it on SIGTERM. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("lwm2m-leshan-server: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.help) {
            System.out.print(Options.usage());
            return;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        try {
            OwnLeshanServer server = new OwnLeshanServer(options);
            server.start();
            // a deregistration posted while stopping still gets a few seconds to reach the daemon
            Runtime.getRuntime().addShutdownHook(new Thread(() -> server.stop(Duration.ofSeconds(3)), "shutdown"));
            log.info("LwM2M on coap://{}:{}, REST API and event stream on http://{}:{}, posting to {}, awake time {} s",
                    options.coapAddress, server.coapPort(), options.httpAddress, server.httpPort(), options.daemonUrl,
                    options.awakeTimeSeconds);
        } catch (Exception e) {
            log.error("could not start: {}", e.toString());
            System.exit(1);
        }
    }
}

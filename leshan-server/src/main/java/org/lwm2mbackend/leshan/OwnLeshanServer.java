package org.lwm2mbackend.leshan;

import java.net.InetSocketAddress;
import java.time.Duration;

import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.leshan.core.endpoint.Protocol;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.LeshanServerBuilder;
import org.eclipse.leshan.server.model.VersionedModelProvider;
import org.eclipse.leshan.transport.californium.server.endpoint.CaliforniumServerEndpointsProvider;
import org.eclipse.leshan.transport.californium.server.endpoint.coap.CoapServerProtocolProvider;

/**
 * Leshan's LwM2M server on CoAP (UDP) with the awake time and models of the options, Jetty serving the REST API
 * (/api/clients) and the event stream (/api/event), and the listeners that post to the daemon.
 */
public final class OwnLeshanServer {
    private final LeshanServer lwm2m;
    private final Server web;
    private final DaemonPoster poster;

    public OwnLeshanServer(Options options) {
        this(options, new DaemonPoster(options.daemonUrl, options.postQueueSize, Duration.ofMillis(500),
                Duration.ofSeconds(30), Duration.ofSeconds(10)));
    }

    /** With a poster of the caller's (tests choose its backoff). */
    public OwnLeshanServer(Options options, DaemonPoster poster) {
        this.poster = poster;
        LeshanServerBuilder builder = new LeshanServerBuilder();
        builder.setObjectModelProvider(new VersionedModelProvider(ObjectModels.load(options.modelsFolder)));
        int awakeMs = options.awakeTimeSeconds * 1000;
        builder.setClientAwakeTimeProvider(registration -> awakeMs);

        CaliforniumServerEndpointsProvider.Builder endpoints = new CaliforniumServerEndpointsProvider.Builder(
                new CoapServerProtocolProvider());
        // Californium's defaults, not written to a Californium.properties file (the unit's working directory is read-only)
        Configuration coapConfig = endpoints.createDefaultConfiguration();
        endpoints.setConfiguration(coapConfig);
        endpoints.addEndpoint(new InetSocketAddress(options.coapAddress, options.coapPort), Protocol.COAP);
        builder.setEndpointsProviders(endpoints.build());
        this.lwm2m = builder.build();

        new DaemonListeners(poster, System::currentTimeMillis).attach(lwm2m);

        this.web = new Server();
        ServerConnector http = new ServerConnector(web);
        http.setHost(options.httpAddress);
        http.setPort(options.httpPort);
        web.addConnector(http);
        ServletContextHandler root = new ServletContextHandler("/", false, false);
        EventStreamServlet events = new EventStreamServlet(lwm2m);
        ServletHolder eventsHolder = new ServletHolder(events);
        eventsHolder.setAsyncSupported(true);
        root.addServlet(eventsHolder, "/api/event/*");
        root.addServlet(new ServletHolder(new ClientsServlet(lwm2m, events, options.delayedRequests)), "/api/clients/*");
        web.setHandler(root);
    }

    public void start() throws Exception {
        lwm2m.start();
        web.start();
    }

    /** Stops CoAP and HTTP, then gives the posts still queued up to {@code grace} to reach the daemon. */
    public void stop(Duration grace) {
        try {
            web.stop();
        } catch (Exception e) {
            // stopping anyway
        }
        lwm2m.destroy();
        poster.close(grace);
    }

    public LeshanServer lwm2m() {
        return lwm2m;
    }

    public DaemonPoster poster() {
        return poster;
    }

    /** The HTTP port actually bound (useful with port 0). */
    public int httpPort() {
        return ((ServerConnector) web.getConnectors()[0]).getLocalPort();
    }

    /** The CoAP port actually bound (useful with port 0). */
    public int coapPort() {
        return lwm2m.getEndpoint(Protocol.COAP).getURI().getPort();
    }
}

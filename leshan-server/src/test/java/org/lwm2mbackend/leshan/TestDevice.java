package org.lwm2mbackend.leshan;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.eclipse.leshan.client.LeshanClient;
import org.eclipse.leshan.client.LeshanClientBuilder;
import org.eclipse.leshan.client.engine.DefaultRegistrationEngineFactory;
import org.eclipse.leshan.client.object.Device;
import org.eclipse.leshan.client.object.Security;
import org.eclipse.leshan.client.object.Server;
import org.eclipse.leshan.client.observer.LwM2mClientObserverAdapter;
import org.eclipse.leshan.client.resource.BaseInstanceEnabler;
import org.eclipse.leshan.client.resource.ObjectsInitializer;
import org.eclipse.leshan.client.send.ManualDataSender;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.LwM2mId;
import org.eclipse.leshan.core.model.LwM2mModelRepository;
import org.eclipse.leshan.core.model.ObjectLoader;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.request.BindingMode;
import org.eclipse.leshan.core.request.ContentFormat;
import org.eclipse.leshan.core.request.RegisterRequest;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.transport.californium.client.endpoint.CaliforniumClientEndpointsProvider;
import org.eclipse.leshan.transport.californium.client.endpoint.coap.CoapClientProtocolProvider;

/** An in-process LwM2M client on Leshan's client library: Device (3) and a Temperature (3303/0) the test sets. */
public final class TestDevice implements AutoCloseable {

    /** 3303/0 whose Sensor Value the test sets (each change fires a notification to observers). */
    public static final class Temperature extends BaseInstanceEnabler {
        public Temperature() {
        }

        private volatile double value = 20.0;

        void set(double v) {
            value = v;
            fireResourceChange(5700);
        }

        @Override
        public ReadResponse read(LwM2mServer server, int resourceId) {
            if (resourceId == 5700)
                return ReadResponse.success(resourceId, value);
            if (resourceId == 5701)
                return ReadResponse.success(resourceId, "cel");
            return super.read(server, resourceId);
        }
    }

    final LeshanClient client;
    final Temperature temperature = new Temperature();
    private final CountDownLatch registered = new CountDownLatch(1);

    TestDevice(String endpoint, int coapPort, boolean queueMode, long lifetime) {
        List<ObjectModel> models = new ArrayList<>(ObjectLoader.loadAllDefault());
        models.add(ObjectModels.temperature());
        ObjectsInitializer init = new ObjectsInitializer(new LwM2mModelRepository(models).getLwM2mModel());
        init.setInstancesForObject(LwM2mId.SECURITY, Security.noSec("coap://127.0.0.1:" + coapPort, 123));
        init.setInstancesForObject(LwM2mId.SERVER, new Server(123, lifetime, EnumSet.of(BindingMode.U), false, BindingMode.U));
        init.setInstancesForObject(LwM2mId.DEVICE, new Device("lwm2m-backend", "test", "1"));
        init.setInstancesForObject(3303, temperature);

        DefaultRegistrationEngineFactory engine = new DefaultRegistrationEngineFactory();
        engine.setQueueMode(queueMode);
        CaliforniumClientEndpointsProvider.Builder endpoints = new CaliforniumClientEndpointsProvider.Builder(
                new CoapClientProtocolProvider());
        endpoints.setClientAddress(InetAddress.getLoopbackAddress());
        LeshanClientBuilder builder = new LeshanClientBuilder(endpoint);
        builder.setObjects(init.createAll());
        builder.setEndpointsProviders(endpoints.build());
        builder.setDataSenders(new ManualDataSender());
        builder.setRegistrationEngineFactory(engine);
        client = builder.build();
        client.addObserver(new LwM2mClientObserverAdapter() {
            @Override
            public void onRegistrationSuccess(LwM2mServer server, RegisterRequest request, String registrationID) {
                registered.countDown();
            }
        });
    }

    TestDevice start() throws InterruptedException {
        client.start();
        if (!registered.await(20, TimeUnit.SECONDS))
            throw new AssertionError("the test device did not register");
        return this;
    }

    /** Collects the current value of {@code path} for a later Send (the time of collection is its timestamp). */
    void collect(String path) {
        client.getSendService().getDataSender(ManualDataSender.DEFAULT_NAME, ManualDataSender.class)
                .collectData(List.of(new LwM2mPath(path)));
    }

    /** Sends what was collected (SenML CBOR), waiting for the server's answer. */
    void sendCollected() throws Exception {
        for (LwM2mServer server : client.getRegisteredServers().values())
            client.getSendService().getDataSender(ManualDataSender.DEFAULT_NAME, ManualDataSender.class)
                    .sendCollectedData(server, ContentFormat.SENML_CBOR, 5000, false);
    }

    @Override
    public void close() {
        client.destroy(true);
    }
}

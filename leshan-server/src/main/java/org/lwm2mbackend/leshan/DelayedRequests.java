package org.lwm2mbackend.leshan;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.request.DownlinkDeviceManagementRequest;
import org.eclipse.leshan.core.request.exception.ClientSleepingException;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.queue.PresenceListener;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;

/**
 * Requests for sleeping queue-mode clients, kept as the stock demo (2.0.0-M17 and later) keeps them
 * (docs/leshan-rest-api.md §5.2): only the newest per registration (a newer one cancels the older), sent when the
 * client wakes, dropped when it deregisters. A client that is awake or not in queue mode is asked at once.
 */
public final class DelayedRequests implements PresenceListener, RegistrationListener {

    private record Delayed(DownlinkDeviceManagementRequest<?> request, long timeoutMs,
            CompletableFuture<LwM2mResponse> answer) {
    }

    private final LeshanServer server;
    private final boolean keep;
    private final Map<String, Delayed> byRegistration = new ConcurrentHashMap<>();

    /** With {@code keep} false nothing is kept: a request for a sleeping client throws ClientSleepingException. */
    public DelayedRequests(LeshanServer server, boolean keep) {
        this.server = server;
        this.keep = keep;
        server.getPresenceService().addListener(this);
        server.getRegistrationService().addListener(this);
    }

    /**
     * The answer: completed at once (null when the device did not answer within {@code timeoutMs}) when the client was
     * reachable, else completed when the kept request is answered after the client's next wake (cancelled when a newer
     * request replaces it or the client deregisters).
     */
    public CompletableFuture<LwM2mResponse> send(Registration reg, DownlinkDeviceManagementRequest<?> request,
            long timeoutMs) throws InterruptedException {
        CompletableFuture<LwM2mResponse> answer = new CompletableFuture<>();
        if (!keep) {
            answer.complete(server.send(reg, request, timeoutMs));
            return answer;
        }
        if (!reg.usesQueueMode() || server.getPresenceService().isClientAwake(reg)) {
            try {
                answer.complete(server.send(reg, request, timeoutMs));
                return answer;
            } catch (ClientSleepingException e) {
                // fell asleep meanwhile: keep it below
            }
        }
        Delayed previous = byRegistration.put(reg.getId(), new Delayed(request, timeoutMs, answer));
        if (previous != null)
            previous.answer.cancel(false);
        // deregistered meanwhile: nothing will ever send it
        if (server.getRegistrationService().getById(reg.getId()) == null) {
            Delayed kept = byRegistration.remove(reg.getId());
            if (kept != null)
                kept.answer.cancel(false);
        }
        return answer;
    }

    @Override
    public void onAwake(Registration reg) {
        Delayed d = byRegistration.remove(reg.getId());
        if (d == null)
            return;
        try {
            server.send(reg, d.request, d.timeoutMs, d.answer::complete, d.answer::completeExceptionally);
        } catch (RuntimeException e) {
            d.answer.completeExceptionally(e);
        }
    }

    @Override
    public void onSleeping(Registration reg) {
    }

    @Override
    public void unregistered(Registration reg, Collection<Observation> observations, boolean expired, Registration newReg) {
        Delayed d = byRegistration.remove(reg.getId());
        if (d != null)
            d.answer.cancel(false);
    }

    @Override
    public void registered(Registration reg, Registration previousReg, Collection<Observation> previousObservations) {
    }

    @Override
    public void updated(RegistrationUpdate update, Registration updatedReg, Registration previousReg) {
    }
}

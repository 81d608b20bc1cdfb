/**
 * What one delivery attempt means for the operation and for its endpoint's queue: the outcome table
 * (README: Endpoint operations), as a pure function. The attempt has already been counted (markSending) when this runs.
 *
 * | Leshan answered                         | operation becomes                         | endpoint queue |
 * |-----------------------------------------|-------------------------------------------|----------------|
 * | 200 success:true                        | CONFIRMED (read/observe keep the content) | next one       |
 * | 200 success:false, device 4.xx          | FAILED now, with the code                 | next one       |
 * | 200 success:false, device 5.xx          | QUEUED (FAILED at maxAttempts)            | waits for wake |
 * | 504, 500, other                         | QUEUED (FAILED at maxAttempts)            | waits for wake |
 * | 400 sleeping / not registered           | QUEUED, not an attempt (nothing reached   | waits for wake |
 * |                                         | the device: Leshan refused to send it)    |                |
 * | 400 Invalid request (not sleeping)      | FAILED now: the same request fails again  | next one       |
 * | 200 delayed (Leshan >= 2.0.0-M17 queue) | QUEUED (FAILED at maxAttempts)            | waits for wake |
 * | nothing (Leshan unreachable)            | QUEUED, attempt not counted               | retry later    |
 * | connection lost after an execute left   | FAILED now: it may have run; not repeated | retry later    |
 *
 * A 400 "Invalid request" is Leshan refusing the request itself (a body or path it cannot use), not the
 * device being away; repeating the identical request cannot succeed, so it fails at once rather than
 * after three wasted wake-ups. (The daemon validates operations at creation, so this is a safety net.)
 */
import type { DeliveryResult } from '../endpoints/endpointMachine.js';
import type { AttemptResult } from '../leshan/responses.js';
import type { Operation, OperationResult, OperationStatus } from './operation.js';

export interface Settlement {
  status: OperationStatus;
  result?: OperationResult;
  error?: string;
  /** false: the attempt did not reach Leshan and is taken back. */
  countAttempt: boolean;
  /** What the endpoint's queue does next. */
  endpoint: DeliveryResult;
}

export function settle(op: Pick<Operation, 'attempts'>, attempt: AttemptResult, maxAttempts: number): Settlement {
  const retryOrFail = (error: string, result?: OperationResult): Settlement => {
    const failed = op.attempts >= maxAttempts;
    return {
      status: failed ? 'FAILED' : 'QUEUED',
      error: failed
        ? `${error} (attempt ${op.attempts} of ${maxAttempts}; giving up)`
        : `${error} (attempt ${op.attempts} of ${maxAttempts})`,
      countAttempt: true,
      endpoint: 'asleep',
      ...(result ? { result } : {}),
    };
  };
  switch (attempt.kind) {
    case 'confirmed':
      return { status: 'CONFIRMED', result: attempt.result, countAttempt: true, endpoint: 'delivered' };
    case 'deviceError': {
      const what = `device answered ${attempt.result.status ?? attempt.code}${attempt.result.errormessage ? `: ${attempt.result.errormessage}` : ''}`;
      if (attempt.code >= 400 && attempt.code < 500) {
        return { status: 'FAILED', result: attempt.result, error: what, countAttempt: true, endpoint: 'delivered' };
      }
      return retryOrFail(what, attempt.result);
    }
    case 'notDelivered':
      if (attempt.reason === 'invalidRequest') {
        return { status: 'FAILED', error: attempt.message, countAttempt: true, endpoint: 'delivered' };
      }
      if (attempt.reason === 'sleeping' || attempt.reason === 'notRegistered') {
        // Leshan refused to send it: nothing reached the device, so it is no attempt
        return { status: 'QUEUED', error: attempt.message, countAttempt: false, endpoint: 'asleep' };
      }
      if (attempt.reason === 'unknownOutcome') {
        // an execute may have run: never repeated behind the operator's back
        return { status: 'FAILED', error: attempt.message, countAttempt: true, endpoint: 'unreachable' };
      }
      return retryOrFail(attempt.message);
    case 'delayed':
      return retryOrFail(`Leshan queued the request itself (requestId ${attempt.requestId}): the device is asleep`);
    case 'unreachable':
      return { status: 'QUEUED', error: attempt.message, countAttempt: false, endpoint: 'unreachable' };
  }
}

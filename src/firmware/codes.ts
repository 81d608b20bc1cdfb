/**
 * LwM2M object 5 (Firmware Update) in words: the states of 5/0/3 and the update results of 5/0/5
 * (OMA LwM2M 1.1 core, E.6), and which failed results are worth another download. Pure: no I/O.
 */

/** 5/0/3 State. */
export const FIRMWARE_STATES: Readonly<Record<number, string>> = {
  0: 'Idle',
  1: 'Downloading',
  2: 'Downloaded',
  3: 'Updating',
};
export const STATE_IDLE = 0;
export const STATE_DOWNLOADING = 1;
export const STATE_DOWNLOADED = 2;

/** 5/0/5 Update Result: 0 and 1 are no failure; 2-9 are (10 and 11 are LwM2M 1.1's cancelled and deferred). */
export const UPDATE_RESULTS: Readonly<Record<number, string>> = {
  0: 'initial value',
  1: 'firmware updated successfully',
  2: 'not enough flash memory for the new firmware package',
  3: 'out of RAM during download',
  4: 'connection lost during download',
  5: 'integrity check failure of the downloaded package',
  6: 'unsupported package type',
  7: 'invalid URI',
  8: 'firmware update failed',
  9: 'unsupported protocol',
  10: 'firmware update cancelled on the device',
  11: 'firmware update deferred by the device',
};
export const RESULT_SUCCESS = 1;

/** Results another download may cure: the connection dropped, or the package arrived damaged. */
export const RETRYABLE_RESULTS: ReadonlySet<number> = new Set([4, 5]);

/** Whether a 5/0/5 value reports a failure (11, deferred, is not one: the device will go on later). */
export function isFailureResult(code: number): boolean {
  return code >= 2 && code <= 10;
}

/** "connection lost during download (5/0/5 = 4)"; an unknown code is named as such. */
export function resultInWords(code: number): string {
  return `${UPDATE_RESULTS[code] ?? 'unknown update result'} (5/0/5 = ${code})`;
}

/** "Downloaded (2)". */
export function stateInWords(code: number): string {
  return `${FIRMWARE_STATES[code] ?? 'unknown state'} (${code})`;
}

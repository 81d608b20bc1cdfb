/** Which Leshan the demo runs (DEMO_LESHAN): the real one when Java is here, else the test double; said in a line. */
import { spawnSync } from 'node:child_process';
import { ensureLeshan, LESHAN_CLIENT_VERSION, LESHAN_SERVER_VERSION } from '../tools/realLeshan.js';
import type { Narrator } from './narration.js';

/** Whether `java -version` runs. */
export function javaPresent(): boolean {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * `real`: Leshan's jars resolved (scripts/ensure-leshan.sh: Maven the first time, then a cache; with DEMO_LESHAN=real
 * it also installs Java and Maven with apt-get when missing), throws when that fails. `auto`: real when Java is here
 * and the jars can be had without installing anything, else the double. `double`: the double.
 */
export function chooseLeshan(wanted: 'auto' | 'real' | 'double', n: Narrator): 'real' | 'double' {
  if (wanted === 'double') return 'double';
  if (wanted === 'auto' && !javaPresent()) {
    n.say('Leshan: no Java here, so the demo runs the Leshan test double (install a JDK and Maven for the real Leshan)');
    return 'double';
  }
  n.say(`Leshan: resolving Eclipse Leshan's jars from Maven Central (cached after the first time, which takes ~40 s) ...`);
  const noInstall = process.env.LESHAN_NO_INSTALL;
  try {
    if (wanted === 'auto') process.env.LESHAN_NO_INSTALL = '1';
    ensureLeshan();
  } catch (err) {
    if (wanted === 'real') throw err;
    const why = (err instanceof Error ? err.message : String(err)).split('\n').find((l) => l.trim() !== '') ?? 'unknown';
    n.say(`Leshan: the real one cannot run here (${why.slice(0, 200)}), so the demo runs the Leshan test double`);
    return 'double';
  } finally {
    if (noInstall === undefined) delete process.env.LESHAN_NO_INSTALL;
    else process.env.LESHAN_NO_INSTALL = noInstall;
  }
  n.say(`Leshan: the real one (demo server ${LESHAN_SERVER_VERSION}, clients on Leshan's client library ${LESHAN_CLIENT_VERSION})`);
  return 'real';
}

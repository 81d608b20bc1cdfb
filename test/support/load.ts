import { Pool } from 'undici';

/** Posts `count` JSON bodies made by `body(i)` to `url + path` with `concurrency` requests at once; returns the statuses seen. */
export async function postMany(
  url: string,
  path: string,
  count: number,
  body: (i: number) => unknown,
  concurrency = 32,
): Promise<Map<number, number>> {
  const pool = new Pool(url, { connections: concurrency });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const res = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body(i)),
      });
      await res.body.dump();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool.close();
  }
  return statuses;
}

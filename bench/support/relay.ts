/**
 * The floor of the idle-delay benchmark: the same two HTTP hops as the daemon (a POST in; a keep-alive
 * undici request to Leshan out) with no daemon in between. Every post is answered 201; an update (object
 * 10240 resource 2) first sends the endpoint's write to Leshan, as the daemon sends a queued one. What the
 * idle delay measures beyond this floor is the daemon's own doing.
 * Run as its own process: `node --import tsx bench/support/relay.ts PORT LESHAN_URL`; prints `ready`.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const port = Number(process.argv[2]);
const leshan = new Pool(process.argv[3]!, { connections: 4 });
const write = JSON.stringify({ id: 14, kind: 'singleResource', value: '+01:00', type: 'STRING' });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { ep?: string; obj_id?: number; val?: { id?: number } };
    if (body.obj_id === 10240 && body.val?.id === 2) {
      void leshan
        .request({
          method: 'PUT',
          path: `/api/clients/${encodeURIComponent(body.ep!)}/3/0/14?timeout=5&format=TLV`,
          headers: { 'content-type': 'application/json' },
          body: write,
        })
        .then((r) => r.body.dump());
    }
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"accepted":1}');
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => void leshan.close().then(() => process.exit(0))));

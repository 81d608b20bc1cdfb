import { createServer } from 'node:http';

/**
 * The baseline of the ingest benchmark: a bare node:http server that reads the body, parses the JSON
 * and answers 201, and nothing else. Run as its own process: `node --import tsx bench/support/bareServer.ts PORT`.
 */
const port = Number(process.argv[2]);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { ep?: unknown };
      if (typeof body.ep !== 'string') throw new Error('no ep');
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"accepted":1}');
    } catch {
      res.writeHead(400).end();
    }
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

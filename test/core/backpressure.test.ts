import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { startGateway } from '../helpers/servers';

// A client that stops reading must stop the upstream too (pipe backpressure through core), not
// make gatehouse buffer the rest of the answer: the upstream gets to write only what the
// sockets' buffers on the way hold.

t.test('a client that stops reading keeps the upstream bounded', async (t) => {
  let written = 0;
  let stalled: () => void = () => undefined;
  const upstreamStalled = new Promise<void>((r) => (stalled = r));
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const total = 512 * 1024 * 1024;
  const be = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': total });
    const pump = () => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          stalled();
          return;
        }
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => be.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        be.closeAllConnections();
        be.close(() => r());
      }),
  );
  const { port } = await startGateway(t, {
    upstreams: { be: { targets: [`http://127.0.0.1:${(be.address() as net.AddressInfo).port}`] } },
    routes: [{ upstream: 'be' }],
  });

  // A raw client that reads the head and then nothing.
  const client = net.connect(port, '127.0.0.1');
  t.teardown(() => client.destroy());
  client.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
  await new Promise<void>((r) =>
    client.once('data', () => {
      client.pause();
      r();
    }),
  );
  await upstreamStalled;
  await new Promise((r) => setTimeout(r, 1500));
  const afterPause = written;
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(written, afterPause, 'the upstream makes no progress while the client reads nothing');
  t.ok(
    written < 64 * 1024 * 1024,
    `the upstream wrote ${(written / 1048576).toFixed(1)} MiB of 512 before it had to wait: what socket buffers hold, not the answer`,
  );
  const before = written;
  client.resume();
  await new Promise((r) => setTimeout(r, 500));
  t.ok(written > before, 'reading again lets the upstream go on');
});

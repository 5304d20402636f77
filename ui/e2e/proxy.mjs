// A loopback TCP proxy between the app and a real voices-server that can cut the
// connection in the middle of one kind of exchange, as a field link drops: the device's
// pull of its feed after the answer's first bytes, or an upload after the server took it
// but before its answer arrives. Healthy, it relays bytes as they come.
import { createServer, connect } from 'node:net';

// What the device sends first on a request (its request line), by what is to be cut.
const REQUESTS = {
  feed: (project) => `GET /api/v1/projects/${project}/device/feed`,
  upload: (project) => `POST /api/v1/projects/${project}/revisions `,
};

export class CuttingProxy {
  /** Relay 127.0.0.1:<free port> to 127.0.0.1:`upstreamPort`, for `project`'s requests. */
  constructor(upstreamPort, project) {
    this.upstreamPort = upstreamPort;
    this.project = project;
    /** `null` (healthy), `'feed'` or `'upload'`: which exchange every connection breaks in. */
    this.cutting = null;
    /** How many exchanges were cut, by kind. */
    this.cuts = { feed: 0, upload: 0 };
    this.sockets = new Set();
    this.server = createServer((client) => this.relay(client));
  }

  async start() {
    await new Promise((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(0, '127.0.0.1', ok);
    });
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** Cut every `kind` exchange from now on (`null`: relay everything). */
  cut(kind) {
    if (kind !== null && !REQUESTS[kind]) throw new Error(`nothing to cut called ${kind}`);
    this.cutting = kind;
  }

  relay(client) {
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    // The exchange being cut on this connection (its request went up), if any.
    let armed = null;
    let answer = Buffer.alloc(0);
    const breakOff = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (bytes) => {
      const kind = this.cutting;
      // reqwest never pipelines: a request line at the start of what comes up is a new request.
      if (kind && bytes.toString('latin1').startsWith(REQUESTS[kind](this.project))) armed = kind;
      upstream.write(bytes);
    });
    upstream.on('data', (bytes) => {
      if (!armed) {
        client.write(bytes);
        return;
      }
      if (armed === 'done') return;
      if (armed === 'upload') {
        // The server stored the upload and answers: the answer never reaches the device.
        this.cuts.upload++;
        breakOff();
        return;
      }
      // The feed: its head and half of the body's first bytes go through, then nothing.
      answer = Buffer.concat([answer, bytes]);
      const head = answer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const body = answer.length - head - 4;
      if (body === 0) return;
      client.write(answer.subarray(0, head + 4 + Math.max(1, Math.floor(body / 2))), () => {
        this.cuts.feed++;
        breakOff();
      });
      armed = 'done';
    });
    for (const s of [client, upstream]) {
      s.on('error', breakOff);
      s.on('close', () => {
        this.sockets.delete(s);
        breakOff();
      });
    }
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((ok) => this.server.close(ok));
  }
}

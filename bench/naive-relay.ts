// Reference system (a) of `npm run bench`, its own process: the least an ingest endpoint can do.
// POST /v1/inbound → fetch(RECEIVER_URL, MO JSON) → 202. No storage, no durability: the
// yardstick for the service's acknowledgement rate and latency.
//   env: PORT, INGEST_TOKEN, RECEIVER_URL (set by bench/run.ts)
import { env, serveInbound } from './lib/front-door.js';

const receiverUrl = env('RECEIVER_URL');
const stats = { relayed: 0, failed: 0 };

const server = await serveInbound({
  port: Number(env('PORT')),
  token: env('INGEST_TOKEN'),
  accept: async (_mo, raw) => {
    try {
      const res = await fetch(receiverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`receiver answered ${res.status}`);
      stats.relayed++;
    } catch (e) {
      stats.failed++;
      throw e;
    }
  },
  stats: () => stats,
  log: (line) => console.log(`[relay] ${line}`),
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
console.log(`[relay] ready on http://127.0.0.1:${env('PORT')}`);

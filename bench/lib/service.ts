// What the bench needs around the service: its own database, a mail server for email
// forwards, the account set up through the API (as README.md's walkthrough does), and the
// outbox read back to check the mixed keyword's sends.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { SMTPServer } from 'smtp-server';

/** A fresh database next to the test one; drop() removes it, closing whatever is still connected. */
export async function createDatabase(adminUrl: string): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = '/' + name;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** An SMTP server on 127.0.0.1 that accepts every mail and keeps only a count. */
export async function startSmtpSink(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      stream.resume();
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

export type ServiceAccount = { sid: string; apiKey: string; number: string };

/**
 * Account, number, assignment, sender ID and the two keyword configurations, through the
 * admin and account API. WIN only calls the webhook; MIX replies by SMS, forwards by email and
 * calls the webhook.
 */
export async function setUpAccount(base: string, adminToken: string, number: string, receiverUrl: string): Promise<ServiceAccount> {
  const call = async (path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`setup ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };
  const admin = { authorization: `Bearer ${adminToken}` };
  const account = await call('/v1/admin/accounts', { name: 'Bench', country: 'US' }, admin);
  const sid = account.sid!;
  const key = { 'api-key': account.api_key! };
  await call('/v1/admin/numbers', { number, kind: 'long_code' }, admin);
  await call(`/v1/admin/numbers/${encodeURIComponent(number)}/accounts`, { sid }, admin);
  await call(`/v1/${sid}/sender-ids`, { sender_id: 'BENCHCO' }, key);
  await call(`/v1/${sid}/receive-configs`, { number, keyword: 'WIN', trigger: { url: receiverUrl } }, key);
  await call(
    `/v1/${sid}/receive-configs`,
    {
      number,
      keyword: 'MIX',
      auto_reply: { sender: 'BENCHCO', message: 'Thanks <source>', schedule: { type: 'instant' } },
      trigger: { url: receiverUrl },
      forward: { email: { to: ['ops@example.com'] } },
    },
    key,
  );
  return { sid, apiKey: account.api_key!, number };
}

export type OutboxCheck = {
  expected: number;
  /** MOs with a `sent` outbox row, per purpose */
  sent: Record<string, number>;
  missing: Record<string, number>;
  /** rows by purpose and status, e.g. { "auto_reply sent": 3030 } */
  rows: Record<string, number>;
  ended: 'all' | 'quiet' | 'cap';
};

/**
 * The mixed keyword's auto replies and email forwards in the outbox, once they stop changing:
 * each of the `expected` MOs must have one `sent` row per purpose. The webhook may arrive
 * before the email is sent (they run side by side), hence the wait.
 */
export async function checkOutbox(dbUrl: string, sid: string, expected: number, opts = { quietMs: 10_000, capMs: 60_000 }): Promise<OutboxCheck> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const purposes = ['auto_reply', 'forward_email'];
  try {
    const t0 = Date.now();
    let last = '';
    let lastChange = t0;
    for (;;) {
      const rows = await sql<{ purpose: string; status: string; n: number; ids: number }[]>`
        SELECT purpose, status, count(*)::int AS n, count(DISTINCT log_id)::int AS ids
        FROM outbox WHERE sid = ${sid} AND purpose IN ${sql(purposes)} GROUP BY purpose, status ORDER BY purpose, status`;
      const check: OutboxCheck = { expected, sent: {}, missing: {}, rows: {}, ended: 'all' };
      for (const p of purposes) {
        check.sent[p] = rows.find((r) => r.purpose === p && r.status === 'sent')?.ids ?? 0;
        check.missing[p] = expected - check.sent[p]!;
      }
      for (const r of rows) check.rows[`${r.purpose} ${r.status}`] = r.n;
      const snapshot = JSON.stringify(check.rows);
      if (snapshot !== last) {
        last = snapshot;
        lastChange = Date.now();
      }
      if (purposes.every((p) => check.missing[p] === 0)) return check;
      if (Date.now() - lastChange >= opts.quietMs) return { ...check, ended: 'quiet' };
      if (Date.now() - t0 >= opts.capMs) return { ...check, ended: 'cap' };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await sql.end();
  }
}

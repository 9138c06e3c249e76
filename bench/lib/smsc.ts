// A local SMSC for the SMPP scenario: the `smpp` package's server on 127.0.0.1, which the
// service binds to as an ESME (its SMPP connection is made through the admin API, as an
// operator would) and which sends the MOs as deliver_sm, the way test/integration/smpp-ingest.test.ts
// runs one. The service answers deliver_sm_resp only once the MO is stored.
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import type { Mo, Sent } from './load.js';

/** deliver_sm_resp statuses by name, for the report; others are shown in hex */
const STATUS_NAMES: Record<number, string> = { 0: 'ESME_ROK', 0x0a: 'ESME_RINVSRCADR', 0x0b: 'ESME_RINVDSTADR', 0x64: 'ESME_RX_T_APPN' };

export type Smsc = {
  host: string;
  port: number;
  systemId: string;
  password: string;
  /** the bind command the ESME used, once it is bound */
  boundWith: () => string | null;
  /**
   * One MO as a deliver_sm to the bound ESME; resolves on its deliver_sm_resp (status
   * `ESME_ROK`, or another command_status), or with `error:…` when there is no bind or no
   * answer within `timeoutMs`.
   */
  deliver: (mo: Mo, timeoutMs?: number) => Promise<Sent>;
  close: () => Promise<void>;
};

/** SMPP addresses of an E.164 number: TON 1 (international), NPI 1 (ISDN), digits without "+". */
const address = (e164: string) => ({ ton: 1, npi: 1, addr: e164.replace(/^\+/, '') });

/**
 * GSM 03.38 default alphabet, unpacked, as SMSCs send deliver_sm with data_coding 0: letters,
 * digits, space and "-" have their ASCII codes there; the bench's texts use nothing else.
 */
function gsm(text: string): Buffer {
  if (!/^[A-Za-z0-9 -]*$/.test(text)) throw new Error(`not plain GSM text: ${JSON.stringify(text)}`);
  return Buffer.from(text, 'latin1');
}

export async function startSmsc(opts: { systemId: string; password: string }): Promise<Smsc> {
  let bound: Session | null = null;
  let boundWith: string | null = null;
  let closing = false;
  const server = smpp.createServer({}, (session: Session) => {
    // A socket error (the ESME gone) closes the session; nothing to do beyond that.
    session.on('error', () => {});
    const onBind = (pdu: PDU) => {
      if (closing || pdu.system_id !== opts.systemId || pdu.password !== opts.password) {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        session.close();
        return;
      }
      session.send(pdu.response({ system_id: 'BENCHSMSC' }));
      bound = session;
      boundWith = pdu.command;
      session.on('close', () => {
        if (bound === session) bound = null;
      });
    };
    session.on('bind_receiver', onBind);
    session.on('bind_transceiver', onBind);
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    ...opts,
    boundWith: () => (bound ? boundWith : null),
    deliver(mo, timeoutMs = 30_000) {
      const session = bound;
      if (!session) return Promise.resolve({ status: 'error:unbound', outcome: null });
      const src = address(mo.source);
      const dst = address(mo.recipient);
      const pdu = new smpp.PDU('deliver_sm', {
        source_addr_ton: src.ton, source_addr_npi: src.npi, source_addr: src.addr,
        dest_addr_ton: dst.ton, dest_addr_npi: dst.npi, destination_addr: dst.addr,
        esm_class: 0, data_coding: 0, short_message: gsm(mo.message),
      });
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ status: 'error:no deliver_sm_resp', outcome: null }), timeoutMs);
        const written = session.send(pdu, (resp: PDU) => {
          clearTimeout(timer);
          const s = resp.command_status;
          resolve({ status: STATUS_NAMES[s] ?? `0x${s.toString(16).padStart(8, '0')}`, outcome: null });
        });
        if (!written) {
          clearTimeout(timer);
          resolve({ status: 'error:unbound', outcome: null });
        }
      });
    },
    close() {
      closing = true;
      for (const session of [...server.sessions]) session.socket.destroy();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

export type SmppConnection = {
  id: string;
  /** the bind's counters as the service shows them (GET /v1/admin/smpp-connections/{id}) */
  counters: () => Promise<Record<string, number> | null>;
  /** deletes the connection (the service unbinds) and waits, at most `timeoutMs`, until the SMSC sees the bind go */
  remove: (timeoutMs: number) => Promise<void>;
};

/**
 * Makes the service bind to `smsc`: an SMPP connection through the admin API (a receiver
 * bind: the SMSC only delivers), then waits, at most `timeoutMs`, until the connection's live
 * state says `bound` and the SMSC holds the bind.
 */
export async function connectService(base: string, adminToken: string, smsc: Smsc, timeoutMs: number): Promise<SmppConnection> {
  const url = `${base}/v1/admin/smpp-connections`;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const res = await fetch(url, {
    method: 'POST', headers,
    body: JSON.stringify({ name: 'bench SMSC', host: smsc.host, port: smsc.port, system_id: smsc.systemId, password: smsc.password, bind_type: 'receiver' }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`creating the SMPP connection: ${res.status} ${text}`);
  const id = (JSON.parse(text) as { id: string }).id;
  const state = async () => {
    const got = await fetch(`${url}/${id}`, { headers });
    if (got.status !== 200) throw new Error(`reading the SMPP connection: ${got.status} ${await got.text()}`);
    return ((await got.json()) as { state: { state: string; last_error?: string | null; counters?: Record<string, number> } }).state;
  };
  const deadline = performance.now() + timeoutMs;
  for (let s = await state(); s.state !== 'bound' || !smsc.boundWith(); s = await state()) {
    if (performance.now() > deadline) throw new Error(`the service did not bind to the bench's SMSC within ${timeoutMs / 1000} s (state ${s.state}${s.last_error ? `: ${s.last_error}` : ''})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    id,
    counters: async () => (await state()).counters ?? null,
    async remove(timeout) {
      const del = await fetch(`${url}/${id}`, { method: 'DELETE', headers });
      if (del.status !== 204) throw new Error(`deleting the SMPP connection: ${del.status} ${await del.text()}`);
      const until = performance.now() + timeout;
      while (smsc.boundWith() && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

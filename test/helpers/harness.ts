import { randomBytes, randomInt } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../src/api/app.js';
import { createIngestion, type Ingestion } from '../../src/ingest/ingest.js';
import type { RunStarter } from '../../src/ingest/starter.js';
import { loadConfig, type Config } from '../../src/config.js';
import { generateKey } from '../../src/domain/keyring.js';
import { createMailer } from '../../src/outbound/mailer.js';
import type { SmsProvider } from '../../src/outbound/sms-providers.js';
import { createSms } from '../../src/runtime/sms.js';
import { failureConverterPath, temporalDataConverter } from '../../src/runtime/payload-codec.js';
import { connectTemporal } from '../../src/runtime/temporal.js';
import { createWorker } from '../../src/worker/worker.js';
import { createTestDb, type TestDb } from './db.js';
import { workflowBundle } from './temporal.js';

export const ADMIN_TOKEN = 'test-admin-token';
export const INGEST_TOKEN = 'test-ingest-token';
/** Seals the secrets the tests store (SECRETS_KEY); one per test file. */
export const SECRETS_KEY = generateKey();

export const randomLongCode = () => `+9198${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
export const randomShortCode = () => String(randomInt(100_000, 1_000_000));
export const randomId = (prefix = 'c') => `${prefix}-${randomBytes(6).toString('hex')}`;

export type Res = { status: number; body: any };

/**
 * The real app over a real PostgreSQL schema (and, when given, a real Temporal dev server).
 * `context()` gives each test its own task queue and config, as the testing guide asks.
 */
export class Harness {
  private constructor(
    readonly db: TestDb,
    readonly env: TestWorkflowEnvironment | null,
    private readonly unreachable: { close: () => Promise<void> } | null,
    private readonly client: Client,
  ) {}

  /**
   * With no Temporal environment the client is lazy, pointed at `temporalAddress` (by default a
   * port nothing listens on): ingest still stores, as when Temporal is down.
   */
  static async create(env: TestWorkflowEnvironment | null = null, temporalAddress = '127.0.0.1:9'): Promise<Harness> {
    const db = await createTestDb();
    const lazy = env ? null : connectTemporal(temporalAddress, 'default', null);
    return new Harness(db, env, lazy, env ? env.client : lazy!.client);
  }

  get sql() {
    return this.db.sql;
  }

  context(envOverrides: Record<string, string> = {}): Ctx {
    const config = loadConfig({
      DATABASE_URL: this.db.url,
      TEMPORAL_TASK_QUEUE: `tq-${randomBytes(6).toString('hex')}`,
      TEMPORAL_UI_URL: 'http://localhost:8233',
      ADMIN_TOKEN,
      INGEST_TOKEN,
      SECRETS_KEY,
      WEBHOOK_INITIAL_INTERVAL_SECONDS: '1',
      WEBHOOK_TIMEOUT_SECONDS: '3',
      DELIVERY_REPORT_WAIT_SECONDS: '0',
      // The tests' webhook receivers listen on 127.0.0.1.
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      ...envOverrides,
    });
    // With PAYLOAD_KEY the context's starts, queries and results go through the codec, as a process's do.
    const client = config.keys.payload && this.env
      ? new Client({ connection: this.env.connection, namespace: 'default', dataConverter: temporalDataConverter(config.keys.payload) })
      : this.client;
    const ctx = new Ctx(this, config, client);
    this.contexts.push(ctx);
    return ctx;
  }

  private readonly contexts: Ctx[] = [];

  async close(): Promise<void> {
    // Background run starts must end before their connection and schema go away.
    await Promise.all(this.contexts.map((c) => c.starter.drain()));
    await Promise.all(this.contexts.map((c) => c.sms.close?.()));
    await this.unreachable?.close();
    await this.db.drop();
  }
}

export class Ctx {
  readonly app;
  readonly ingestion: Ingestion;
  /** the API's provider (SMS_PROVIDER=smpp binds on its first send) */
  readonly sms: SmsProvider;
  constructor(
    readonly h: Harness,
    readonly config: Config,
    readonly client: Client,
  ) {
    this.ingestion = createIngestion({ sql: h.sql, temporal: client, config });
    this.sms = createSms(config, { sql: h.sql, ingestion: this.ingestion, temporal: client });
    this.app = createApp({ sql: h.sql, temporal: client, config, tokens: { admin: ADMIN_TOKEN, ingest: INGEST_TOKEN }, sms: this.sms, ingestion: this.ingestion });
  }

  get starter(): RunStarter {
    return this.ingestion.starter;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await this.app.request(path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }

  admin(method: string, path: string, body?: unknown): Promise<Res> {
    return this.request(method, `/v1/admin${path}`, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
  }

  ingest(body: Record<string, unknown>): Promise<Res> {
    return this.request('POST', '/v1/inbound', body, { authorization: `Bearer ${INGEST_TOKEN}` });
  }

  /**
   * A new account with one number of its own (and, optionally, sender IDs). `standardKeywords:
   * false` makes a number whose configurations may use STOP, START, HELP and their kin.
   */
  async account(opts: { country?: string; timezone?: string; number?: string; kind?: 'long_code' | 'short_code'; shared?: boolean; senders?: string[]; standardKeywords?: boolean } = {}): Promise<Account> {
    const acct = await this.admin('POST', '/accounts', { name: `Test ${randomId('acct')}`, country: opts.country ?? 'US', ...(opts.timezone ? { timezone: opts.timezone } : {}) });
    if (acct.status !== 201) throw new Error(`account: ${JSON.stringify(acct.body)}`);
    const a = new Account(this, acct.body.sid, acct.body.api_key);
    const number = opts.number ?? (opts.kind === 'short_code' ? randomShortCode() : randomLongCode());
    // A given number may exist already (a shared short code several accounts are put on).
    const n = await this.admin('POST', '/numbers', {
      number, kind: opts.kind ?? 'long_code', shared: opts.shared ?? false,
      ...(opts.standardKeywords === undefined ? {} : { standard_keywords: opts.standardKeywords }),
    });
    if (n.status !== 201 && !(opts.number && n.status === 409)) throw new Error(`number: ${JSON.stringify(n.body)}`);
    const assign = await this.admin('POST', `/numbers/${encodeURIComponent(number)}/accounts`, { sid: a.sid });
    if (assign.status !== 201) throw new Error(`assign: ${JSON.stringify(assign.body)}`);
    a.number = number;
    for (const s of opts.senders ?? []) await a.takeSenderId(s);
    return a;
  }

  /** Runs a worker on this context's task queue while `fn` runs. */
  async withWorker<T>(fn: () => Promise<T>): Promise<T> {
    const env = this.h.env;
    if (!env) throw new Error('this harness has no Temporal server');
    // The worker's own provider, as a worker process has (SMS_PROVIDER=smpp: its own bind).
    const sms = createSms(this.config, { sql: this.h.sql, ingestion: this.ingestion, temporal: this.client });
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: this.config.temporal.taskQueue,
      deps: { sql: this.h.sql, config: this.config, sms, mailer: createMailer(this.config) },
      workflowBundle: await workflowBundle(this.config.keys.payload ? { failureConverterPath } : {}),
    });
    try {
      return await worker.runUntil(fn);
    } finally {
      await sms.close?.();
    }
  }

  /** Waits for a message's run to finish and returns its final state. */
  async result(workflowId: string): Promise<any> {
    // Ingest starts runs in the background: let queued starts reach Temporal first.
    await this.starter.drain();
    return this.client.workflow.getHandle(workflowId).result();
  }
}

export class Account {
  number = '';
  constructor(
    readonly ctx: Ctx,
    readonly sid: string,
    readonly apiKey: string,
  ) {}

  call(method: string, path: string, body?: unknown): Promise<Res> {
    return this.ctx.request(method, `/v1/${this.sid}${path}`, body, { 'api-key': this.apiKey });
  }

  /**
   * Registers a sender ID to this account. A sender ID is one account's (SPEC §5.2), and the
   * tests of a file (one schema) name the same few brands in account after account: one an
   * earlier test's account holds is moved to this one, as an operator would move it. A test
   * about ownership itself registers through the API instead. Fails the test on anything else.
   */
  async takeSenderId(senderId: string): Promise<void> {
    const res = await this.call('POST', '/sender-ids', { sender_id: senderId });
    if (res.status === 201) return;
    if (res.status === 409 && res.body?.error?.code === 'sender_taken') {
      const moved = await this.ctx.admin('PATCH', `/sender-ids/${encodeURIComponent(senderId)}`, { sid: this.sid });
      if (moved.status === 200) return;
      throw new Error(`sender ID ${senderId}: ${moved.status} ${JSON.stringify(moved.body)}`);
    }
    throw new Error(`sender ID ${senderId}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** Creates a receive configuration on this account's number; fails the test on a non-201. */
  async config(body: Record<string, unknown>): Promise<any> {
    const res = await this.call('POST', '/receive-configs', { number: this.number, ...body });
    if (res.status !== 201) throw new Error(`receive-config: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Ingests an MO to this account's number. */
  send(message: string, extra: Record<string, unknown> = {}): Promise<Res> {
    return this.ctx.ingest({ id: randomId(), source: '+919812345678', recipient: this.number, message, ...extra });
  }
}

import type { Config } from '../config.js';
import type { AppliedReport } from './delivery-reports.js';
import { httpSendError, TransientSendError } from './errors.js';

export type SmsRequest = { id: string; sender: string; to: string; body: string; route: string | null; template_id: string | null };
export type SmsResult = {
  status: 'sent'; providerMessageId: string | null; response: unknown;
  /** every part's id, when the provider sent the SMS in parts that are reported on one by one (SMPP) */
  providerPartIds?: string[];
};

/**
 * What the outbox knows of an SMS sent in parts (SMPP), beside the request: what earlier
 * attempts got through, and where each part's id is recorded the moment the provider has it
 * (outbound/sms-parts.ts). Never sent anywhere: the `http` provider posts the request as it is.
 */
export type SendProgress = {
  /** the SMSC ids of the parts earlier attempts got accepted, in order ('' for one given no id) */
  accepted: string[];
  /** the connection they went over, and how many parts the SMS was split into then */
  connectionId: string | null;
  total: number | null;
  /** the SMS's concatenation reference: the stored one, else one new for its destination (kept for every resend) */
  concatRef(): Promise<number>;
  /** records the ids of the parts accepted so far (`ids`, in order, the newest last); answers the early receipts that it applied */
  partsAccepted(p: { connectionId: string; total: number; ids: string[] }): Promise<AppliedReport[]>;
};

/** Where SMS go (SPEC §7 SMS_PROVIDER). Errors are PermanentSendError or TransientSendError. */
export interface SmsProvider {
  readonly name: Config['sms']['provider'];
  send(req: SmsRequest, progress?: SendProgress): Promise<SmsResult>;
  /** lets go of what the provider holds open (an SMPP bind) */
  close?(): Promise<void>;
}

const TIMEOUT_MS = 15_000;

async function postJson(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new TransientSendError(`provider unreachable: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  if (res.status < 200 || res.status >= 300) throw httpSendError(res.status, text);
  return { status: res.status, text };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `log`: the outbox is the delivery; nothing leaves the machine. */
export const logProvider: SmsProvider = {
  name: 'log',
  async send(req) {
    return { status: 'sent', providerMessageId: req.id, response: { provider: 'log' } };
  },
};

/**
 * `http`: POST JSON `{id, sender, to, body, route, template_id}`, with `Idempotency-Key: <id>`
 * as well: the same id on every attempt lets the gateway send a retried SMS once.
 */
export function httpProvider(url: string): SmsProvider {
  return {
    name: 'http',
    async send(req) {
      const { text } = await postJson(url, req, { 'idempotency-key': req.id });
      const body = parse(text) as { id?: unknown; message_id?: unknown } | string;
      const providerId = typeof body === 'object' && body ? (body.message_id ?? body.id) : null;
      return { status: 'sent', providerMessageId: providerId == null ? req.id : String(providerId), response: body };
    },
  };
}

/** `kaleyra`: Kaleyra's send-SMS API, `POST {base}/v1/{sid}/messages` with the `api-key` header. */
export function kaleyraProvider(opts: { baseUrl: string; sid: string; apiKey: string }): SmsProvider {
  return {
    name: 'kaleyra',
    async send(req) {
      const payload: Record<string, string> = { to: req.to, sender: req.sender, body: req.body, ref: req.id };
      if (req.route) payload.type = req.route;
      if (req.template_id) payload.template_id = req.template_id;
      const { text } = await postJson(`${opts.baseUrl.replace(/\/$/, '')}/v1/${encodeURIComponent(opts.sid)}/messages`, payload, { 'api-key': opts.apiKey });
      const body = parse(text) as { id?: string; data?: { message_id?: string }[] };
      const providerId = body?.data?.[0]?.message_id ?? body?.id ?? null;
      return { status: 'sent', providerMessageId: providerId, response: body };
    },
  };
}

/**
 * Whether SMS sent through this provider come back with delivery reports, so that a run waits
 * for them (DELIVERY_REPORT_WAIT_SECONDS). `log` sends nothing, so nothing ever reports; `smpp`
 * asks for receipts (`registered_delivery`).
 */
export function providerReportsDelivery(provider: Config['sms']['provider']): boolean {
  return provider !== 'log';
}

/**
 * The HTTP providers and `log`. `smpp` needs PostgreSQL and Temporal besides the configuration:
 * `createSms` (runtime/sms.ts) makes it, and every process makes its provider there.
 */
export function createSmsProvider(config: Config): SmsProvider {
  switch (config.sms.provider) {
    case 'smpp':
      throw new Error('SMS_PROVIDER=smpp: the provider is made by createSms (runtime/sms.ts)');
    case 'http':
      return httpProvider(config.sms.httpUrl!);
    case 'kaleyra':
      return kaleyraProvider({ baseUrl: config.sms.kaleyraBaseUrl, sid: config.sms.kaleyraSid!, apiKey: config.sms.kaleyraApiKey! });
    default:
      return logProvider;
  }
}

import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config.js';
import { accountSigningSecret } from '../db/signing-secrets.js';
import type { Sql } from '../db/sql.js';
import { basicAuthorization, type ProfileAuth } from '../domain/callback-auth.js';
import { requireKeyring, type Keyring } from '../domain/keyring.js';
import { openAuth, openSecret } from '../domain/profile-secrets.js';
import { activeSecrets, signatureHeaders, signedPayload } from '../domain/signing.js';
import { origin, profileSkipReason } from '../domain/callback-profile.js';
import { attemptHeaders, classifyResponse, retryAfterMs, webhookAttemptClass, type DeliveryVerdict } from '../domain/webhook.js';
import { metrics } from '../runtime/metrics.js';
import { errorTypes, type DeliveryResult, type WebhookRequest } from '../workflows/definitions.js';
import { createOutboundFetch, readCapped, refusalOf, type OutboundFetch } from './guarded-fetch.js';
import { accountBusy, AccountCalls, Handovers, retryDelayAfterWaiting } from './outbound-calls.js';
import { createTokenCache, TokenError } from './token-cache.js';
import { loadDeliveryRequest } from './trigger.js';

export type WebhookDeps = {
  sql: Sql;
  config: Pick<Config, 'webhook' | 'callbackProfiles' | 'webhookAllowPrivateNetworks' | 'keys' | 'outbound'>;
  /** the process's cap on each account's calls in flight, shared with the SMS sends */
  calls?: AccountCalls;
  handovers?: Handovers;
};

/** How much of an endpoint's answer each attempt keeps. */
export const RESPONSE_HEAD_BYTES = 512;

/** What an attempt needs besides the stored request, read from PostgreSQL at attempt time. */
type Target = {
  secrets: string[];
  headers: Record<string, string>;
  auth: ProfileAuth | null;
};

type Sent = {
  statusCode: number | null; error: string | null; head: string | null; latencyMs: number; retryAfter?: string | null;
  /** not sent: the address is private or reserved (WEBHOOK_ALLOW_PRIVATE_NETWORKS) */
  refused?: boolean;
  /** no answer within WEBHOOK_TIMEOUT_SECONDS */
  timedOut?: boolean;
};

/** Counts one request to an endpoint (or to its token URL, failed) in the webhook metrics. */
function countAttempt(s: Sent | 'token_error'): void {
  if (s === 'token_error') {
    metrics.webhookAttempts.inc({ outcome: s });
    return;
  }
  const outcome = webhookAttemptClass(s);
  metrics.webhookAttempts.inc({ outcome });
  // A refused address was never asked: no request, no latency.
  if (!s.refused) metrics.webhookDuration.observe({ outcome }, s.latencyMs / 1000);
}

type ProfileRow = {
  url: string; status: string; disabled_reason: string | null; headers: Record<string, string>; auth: ProfileAuth | null;
  signing_secret: string; previous_signing_secret: string | null; previous_secret_until: Date | null;
};

export function createWebhookActivities({ sql, config, calls = new AccountCalls(config.outbound.concurrencyPerAccount), handovers = new Handovers() }: WebhookDeps) {
  const http = createOutboundFetch({ allowPrivateNetworks: config.webhookAllowPrivateNetworks });
  const tokens = createTokenCache({ timeoutSeconds: config.webhook.timeoutSeconds, fetch: http });

  /** Records the attempt, then answers Temporal: return (done) or throw (retry or stop). */
  async function settle(req: WebhookRequest, s: Sent, verdict: DeliveryVerdict, turnedAway: number): Promise<DeliveryResult> {
    const error = verdict !== 'delivered' && !s.error ? `HTTP ${s.statusCode}` : s.error;
    await recordAttempt(sql, req, { ...s, error }, verdict);
    if (verdict === 'delivered') return { status: 'succeeded', statusCode: s.statusCode! };
    if (verdict === 'reject') {
      throw ApplicationFailure.nonRetryable(s.statusCode ? `webhook answered ${s.statusCode}` : error!, errorTypes.webhookRejected);
    }
    // A 429 or 503 may say when to come back; otherwise the policy's backoff applies, counting
    // only the attempts made (not those turned away at the account's cap).
    const wait = retryAfterMs(s.statusCode, s.retryAfter ?? null, new Date());
    const backoff = wait ?? retryDelayAfterWaiting(turnedAway);
    throw ApplicationFailure.create({
      message: `webhook attempt ${Context.current().info.attempt} failed: ${error}`,
      type: errorTypes.webhookRetryable,
      // Also in the details: a first attempt made as a local activity hands it to the workflow.
      ...(wait !== null ? { nextRetryDelay: wait, details: [wait] } : backoff !== undefined ? { nextRetryDelay: backoff } : {}),
    });
  }

  /** One attempt's requests, from reading its target to recording what came of it. */
  async function attempt(req: WebhookRequest, abort: AbortSignal, turnedAway: number): Promise<DeliveryResult> {
    const target = await loadTarget(sql, requireKeyring(config.keys.secrets, 'SECRETS_KEY'), req);
    if ('skip' in target) {
      await markSkipped(sql, req, target.skip);
      return { status: 'skipped', reason: target.skip };
    }
    const auth = target.auth;
    let token = '';
    for (let refreshed = false; ; refreshed = true) {
      if (auth?.type === 'advanced') {
        try {
          token = await tokens.get(req.profileId!, auth);
        } catch (e) {
          if (!(e instanceof TokenError)) throw e;
          countAttempt('token_error');
          return settle(req, { statusCode: null, error: e.message, head: null, latencyMs: 0 }, e.verdict, turnedAway);
        }
      }
      const sent = await send(http, req, target, token, config.webhook.timeoutSeconds, abort);
      countAttempt(sent);
      if (sent.statusCode === 401 && auth?.type === 'advanced' && !refreshed) {
        // The token may have been revoked or expired early: one fresh token, one more request.
        await recordAttempt(sql, req, { ...sent, error: 'HTTP 401: token refused, fetching a new one' }, 'retry');
        tokens.invalidate(req.profileId!, auth, token);
        continue;
      }
      // A refused address stays refused: no later attempt would do better.
      return settle(req, sent, sent.refused ? 'reject' : classifyResponse(sent.statusCode), turnedAway);
    }
  }

  return {
    /**
     * One delivery attempt. Every request to the endpoint is recorded; the verdict decides
     * whether Temporal's retry policy tries again (thrown retryable) or stops (non-retryable).
     * A disabled or deleted profile is not called: the delivery is skipped, with the reason.
     *
     * SPEC §5.2: no more than the account's cap of calls in flight here (over it, the attempt
     * fails at once, `AccountBusy`, and comes back shortly); a local first attempt waits at
     * most LOCAL_ATTEMPT_BUDGET_MS, after which its call goes on, taken over by the regular
     * activity (`Handovers`).
     */
    async deliverWebhook(req: WebhookRequest): Promise<DeliveryResult> {
      const ctx = Context.current();
      if (!ctx.info.isLocal) {
        const adopted = handovers.adopt<DeliveryResult>(req.deliveryId, ctx.cancellationSignal);
        if (adopted) return adopted;
      }
      const slot = calls.enter(req.sid, req.deliveryId);
      if (!slot) throw accountBusy(req.sid, calls.turnAway(req.sid, req.deliveryId));
      const abort = new AbortController();
      const call = attempt(req, abort.signal, slot.turnedAway).finally(slot.release);
      return ctx.info.isLocal ? handovers.within(req.deliveryId, config.outbound.localBudgetMs, call, abort) : call;
    },

    /**
     * A delivery failed for good (a final 4xx, or its retry period ran out). Counts against its
     * profile, which is auto-disabled after `disableAfterFailures` failed deliveries in a row.
     * Idempotent: only a pending delivery changes.
     */
    async failDelivery(req: WebhookRequest, error: string): Promise<void> {
      const threshold = config.callbackProfiles.disableAfterFailures;
      await sql.begin(async (tx) => {
        const [d] = await tx<{ profile_id: string | null }[]>`
          UPDATE deliveries SET status = 'failed', last_error = coalesce(last_error, ${error}), updated_at = now()
          WHERE id = ${req.deliveryId} AND status = 'pending' RETURNING profile_id`;
        if (!d) return;
        await tx`
          UPDATE message_actions SET status = 'failed', last_error = coalesce(last_error, ${error}), updated_at = now()
          WHERE log_id = ${req.logId} AND type = 'trigger'`;
        if (!d.profile_id) return;
        await tx`UPDATE callback_profiles SET consecutive_failures = consecutive_failures + 1, updated_at = now() WHERE id = ${d.profile_id}`;
        await tx`
          UPDATE callback_profiles SET status = 'auto_disabled', disabled_at = now(),
                 disabled_reason = ${`${threshold} deliveries in a row failed (last: ${error})`}
          WHERE id = ${d.profile_id} AND status = 'active' AND consecutive_failures >= ${threshold}`;
      });
    },

    /** The stored request of a delivery, for a replay. */
    async loadDeliveryRequest(deliveryId: string): Promise<WebhookRequest | null> {
      return loadDeliveryRequest(sql, deliveryId);
    },
  };
}

/** The secrets (opened), headers and auth of an attempt, or why the delivery is skipped. */
async function loadTarget(sql: Sql, ring: Keyring, req: WebhookRequest): Promise<Target | { skip: string }> {
  const now = new Date();
  if (!req.profileId) {
    const s = await accountSigningSecret(sql, req.sid, ring);
    return { secrets: activeSecrets(s.signing_secret, s.previous_signing_secret, s.previous_secret_until, now), headers: {}, auth: null };
  }
  const [p] = await sql<ProfileRow[]>`
    SELECT url, status, disabled_reason, headers, auth, signing_secret, previous_signing_secret, previous_secret_until
    FROM callback_profiles WHERE id = ${req.profileId} AND sid = ${req.sid}`;
  if (!p) return { skip: `callback profile ${req.profileId} no longer exists` };
  const skip = profileSkipReason(p);
  if (skip) return { skip };
  // A retry or replay goes to the URL rendered when the run was prepared; the auth is today's.
  // Once the profile has moved to another host (its owner re-supplied the secret for it), that
  // secret is not sent to the old one.
  if (p.auth && origin(p.url) !== origin(req.url)) {
    return { skip: 'the callback profile has moved to another host since this delivery was prepared; its auth is not sent to the old one' };
  }
  const previous = p.previous_signing_secret === null ? null : openSecret(ring, p.previous_signing_secret);
  return {
    secrets: activeSecrets(openSecret(ring, p.signing_secret), previous, p.previous_secret_until, now),
    headers: p.headers,
    auth: openAuth(ring, p.auth),
  };
}

/**
 * The attempt's deadline, and the activity's cancellation: a worker that is shutting down
 * cancels its attempts after its grace time (worker/worker.ts), and a webhook that hangs then
 * fails this attempt at once (retried on the next worker) instead of holding the stop.
 */
function attemptSignal(timeoutSeconds: number, abort: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
  try {
    return AbortSignal.any([timeout, abort, Context.current().cancellationSignal]);
  } catch {
    return AbortSignal.any([timeout, abort]); // outside an activity (a dry run)
  }
}

/** `abort`: the attempt's own, fired when the regular attempt that took it over is cancelled. */
async function send(http: OutboundFetch, req: WebhookRequest, target: Target, token: string, timeoutSeconds: number, abort: AbortSignal): Promise<Sent> {
  // Signed at each attempt: a receiver refuses old timestamps, and a retry can come hours later.
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = attemptHeaders({
    profile: target.headers,
    request: req.headers,
    signature: signatureHeaders(target.secrets, req.deliveryId, timestamp, signedPayload(req.url, req.body)),
    authorization: target.auth?.type === 'basic' ? basicAuthorization(target.auth) : target.auth?.type === 'advanced' ? `Bearer ${token}` : null,
  });

  const started = performance.now();
  try {
    const res = await http(req.url, {
      method: req.method,
      headers,
      body: req.body ?? undefined,
      redirect: 'manual',
      signal: attemptSignal(timeoutSeconds, abort),
    });
    const { text: head } = await readCapped(res, RESPONSE_HEAD_BYTES);
    return { statusCode: res.status, error: null, head, latencyMs: Math.round(performance.now() - started), retryAfter: res.headers.get('retry-after') };
  } catch (e) {
    const refused = refusalOf(e);
    const latencyMs = Math.round(performance.now() - started);
    if (refused) return { statusCode: null, error: refused.message, head: null, latencyMs, refused: true };
    return { statusCode: null, error: describeFetchError(e), head: null, latencyMs, timedOut: e instanceof Error && e.name === 'TimeoutError' };
  }
}

/**
 * Records one request to the endpoint (or a failed token request) on the delivery and the
 * message's trigger action. A success resets its profile's failure count; 410 Gone disables
 * the profile at once: the owner has said the endpoint is gone.
 */
async function recordAttempt(sql: Sql, req: WebhookRequest, s: Sent, verdict: DeliveryVerdict): Promise<void> {
  // An attempt still in flight when its retry period ran out is recorded after the delivery
  // failed: it counts, but an attempt that did not deliver does not reopen an ended delivery.
  const next = verdict === 'delivered' ? sql`'succeeded'` : sql`CASE WHEN status IN ('succeeded', 'failed', 'skipped') THEN status ELSE 'pending' END`;
  // One statement, so one round trip and one commit: the attempt, the delivery, the action
  // and the profile change together or not at all.
  await sql`
    WITH attempt AS (
      INSERT INTO delivery_attempts (delivery_id, attempt, round, status_code, latency_ms, error, response_head)
      SELECT ${req.deliveryId}, coalesce(max(a.attempt), 0) + 1, d.replays, ${s.statusCode}, ${s.latencyMs}, ${s.error}, ${s.head}
      FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
      WHERE d.id = ${req.deliveryId} GROUP BY d.replays
    ), delivery AS (
      UPDATE deliveries SET attempts = attempts + 1, last_status_code = ${s.statusCode}, last_error = ${s.error},
             last_attempt_at = now(), status = ${next}, updated_at = now()
      WHERE id = ${req.deliveryId}
    ), action AS (
      UPDATE message_actions SET attempts = attempts + 1, last_error = ${s.error}, status = ${next}, updated_at = now()
      WHERE log_id = ${req.logId} AND type = 'trigger'
    ), healthy AS (
      UPDATE callback_profiles SET consecutive_failures = 0
      WHERE ${verdict === 'delivered'} AND id = ${req.profileId}::uuid AND consecutive_failures <> 0
    ), gone AS (
      UPDATE callback_profiles SET status = 'auto_disabled', disabled_reason = 'the endpoint answered 410 Gone',
             disabled_at = now(), updated_at = now()
      WHERE ${verdict !== 'delivered' && s.statusCode === 410} AND id = ${req.profileId}::uuid AND status = 'active'
    )
    SELECT 1`;
}

async function markSkipped(sql: Sql, req: WebhookRequest, reason: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`UPDATE deliveries SET status = 'skipped', last_error = ${reason}, updated_at = now() WHERE id = ${req.deliveryId}`;
    await tx`
      UPDATE message_actions SET status = 'skipped', last_error = ${reason}, updated_at = now()
      WHERE log_id = ${req.logId} AND type = 'trigger'`;
  });
}

function describeFetchError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError') return 'timed out';
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${e.message}: ${cause.code}` : e.message;
  }
  return String(e);
}

import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Sql } from '../db/sql.js';
import { classifyResponse } from '../domain/webhook.js';
import { errorTypes, type WebhookRequest } from '../workflows/definitions.js';

export type WebhookDeps = { sql: Sql; config: { webhook: { timeoutSeconds: number } } };

const RESPONSE_HEAD_BYTES = 512;

export function createWebhookActivities({ sql, config }: WebhookDeps) {
  return {
    /**
     * One delivery attempt. Every attempt is recorded; the verdict decides whether Temporal's
     * retry policy tries again (thrown retryable) or stops (non-retryable).
     */
    async deliverWebhook(req: WebhookRequest): Promise<{ statusCode: number; attempt: number }> {
      const attempt = Context.current().info.attempt;
      const started = performance.now();
      let statusCode: number | null = null;
      let error: string | null = null;
      let head: string | null = null;
      try {
        const res = await fetch(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body ?? undefined,
          redirect: 'manual',
          signal: AbortSignal.timeout(config.webhook.timeoutSeconds * 1000),
        });
        statusCode = res.status;
        head = (await res.text()).slice(0, RESPONSE_HEAD_BYTES);
      } catch (e) {
        error = describeFetchError(e);
      }
      const latencyMs = Math.round(performance.now() - started);
      const verdict = classifyResponse(statusCode);
      if (verdict !== 'delivered' && !error) error = `HTTP ${statusCode}`;

      await sql.begin(async (tx) => {
        await tx`
          INSERT INTO delivery_attempts (delivery_id, attempt, status_code, latency_ms, error, response_head)
          VALUES (${req.deliveryId}, ${attempt}, ${statusCode}, ${latencyMs}, ${error}, ${head})`;
        await tx`
          UPDATE deliveries SET attempts = attempts + 1, last_status_code = ${statusCode}, last_error = ${error},
                 status = ${verdict === 'delivered' ? 'succeeded' : verdict === 'reject' ? 'failed' : 'pending'}, updated_at = now()
          WHERE id = ${req.deliveryId}`;
        await tx`
          UPDATE message_actions SET attempts = attempts + 1, last_error = ${error},
                 status = ${verdict === 'delivered' ? 'succeeded' : verdict === 'reject' ? 'failed' : 'pending'}, updated_at = now()
          WHERE log_id = ${req.logId} AND type = 'trigger'`;
      });

      if (verdict === 'delivered') return { statusCode: statusCode!, attempt };
      if (verdict === 'reject') throw ApplicationFailure.nonRetryable(`webhook answered ${statusCode}`, errorTypes.webhookRejected);
      throw ApplicationFailure.retryable(`webhook attempt ${attempt} failed: ${error}`, errorTypes.webhookRetryable);
    },
  };
}

function describeFetchError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError') return 'timed out';
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${e.message}: ${cause.code}` : e.message;
  }
  return String(e);
}

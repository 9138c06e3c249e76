import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Sql } from '../../db/sql.js';
import { tokenize } from '../../domain/keywords.js';
import { isExpired } from '../../domain/matching.js';
import { checkReceiveConfig, receiveConfigInputSchema, type ReceiveConfigRecord } from '../../domain/receive-config.js';
import { normalizeNumber } from '../../domain/phone.js';
import { checkWebhookDestination } from '../../domain/private-networks.js';
import { accountGuard, type Account, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { dryRun, dryRunAnswerSchema, dryRunInput } from '../dry-run.js';
import { checkConfigRules } from '../receive-config-rules.js';
import { notFound } from '../errors.js';
import { body, errors, json, pageFields, Routes, timestamp, uuidParam } from '../openapi.js';
import { page, UUID } from '../query.js';

type ConfigRow = {
  id: string; sid: string; number: string; is_default: boolean; keyword: string | null; aliases: string[];
  template: string | null; expires_at_local: string | null; expires_at: Date | null; expiry_message: string | null;
  expiry_sender: string | null; expiry_route: string | null; expiry_template_id: string | null;
  auto_reply: unknown; forward: unknown; trigger: unknown; subscribe: boolean; unsubscribe: unknown;
  created_at: Date; updated_at: Date;
};

export function configView(r: ConfigRow, now = new Date()) {
  return {
    id: r.id,
    number: r.number,
    default: r.is_default,
    keyword: r.keyword,
    aliases: r.aliases,
    template: r.template,
    expires_at: r.expires_at_local,
    expiry_message: r.expiry_message,
    expiry_sender: r.expiry_sender,
    expiry_route: r.expiry_route,
    expiry_template_id: r.expiry_template_id,
    active: !isExpired(r.expires_at, now),
    auto_reply: r.auto_reply,
    forward: r.forward,
    trigger: r.trigger,
    subscribe: r.subscribe,
    unsubscribe: r.unsubscribe,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

const listQuery = z.object({
  // a bare + in a query string arrives as a space; normalising brings back the stored E.164 form
  number: z.string().transform(normalizeNumber).optional().openapi({ description: "one of the account's numbers" }),
  ...page(100),
});

/** A configuration as stored: the actions in the shape they were given, defaults filled in. */
const configSchema = z
  .object({
    id: z.uuid(),
    number: z.string(),
    default: z.boolean(),
    keyword: z.string().nullable().openapi({ description: 'normalized: trimmed, single-spaced, upper case' }),
    aliases: z.array(z.string()),
    template: z.string().nullable(),
    expires_at: z.string().nullable().openapi({ description: "YYYY-MM-DD HH:MM:SS on the account's clock" }),
    expiry_message: z.string().nullable(),
    expiry_sender: z.string().nullable(),
    expiry_route: z.string().nullable(),
    expiry_template_id: z.string().nullable(),
    active: z.boolean().openapi({ description: 'false once expires_at has passed' }),
    auto_reply: z.looseObject({ sender: z.string(), message: z.string(), schedule: z.looseObject({ type: z.enum(['instant', 'scheduled']) }) }).nullable(),
    forward: z.looseObject({ sms: z.looseObject({ to: z.string(), sender: z.string() }).nullish(), email: z.looseObject({ to: z.array(z.string()) }).nullish() }).nullable(),
    trigger: z.looseObject({ url: z.string().nullish(), callback_profile_id: z.string().nullish() }).nullable(),
    subscribe: z.boolean(),
    unsubscribe: z.looseObject({ scope: z.enum(['configured', 'all']) }).nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('ReceiveConfig');

const idParam = z.object({ id: uuidParam('receive configuration') });
const saveRefused = {
  403: "sender_not_held: a numeric sender that is none of the account's numbers (SPEC §5.2)",
  409: 'keyword_taken (another active configuration on the number, or another account on a shared short code), reserved_keyword (a standard keyword the number answers itself) or conflict (a second default)',
};

export function receiveConfigRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));

  routes.add(createRoute({
    method: 'post', path: '/', operationId: 'createReceiveConfig', tags: ['receive-configs'],
    summary: 'Create a receive configuration',
    request: { body: body(receiveConfigInputSchema) },
    responses: { 201: json(configSchema, 'The configuration'), ...errors(saveRefused) },
  }), async (c, valid) => {
    const account = c.get('account');
    const input = await valid.json();
    checkWebhookDestination('trigger.url', input.trigger?.url, deps.config.webhookAllowPrivateNetworks);
    const row = await saveConfig(sql, account, checkReceiveConfig(input, account, new Date()), null);
    return c.json(configView(row), 201);
  });

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listReceiveConfigs', tags: ['receive-configs'],
    summary: 'List receive configurations, oldest first',
    request: { query: listQuery },
    responses: { 200: json(z.object({ data: z.array(configSchema), ...pageFields }), 'The configurations') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const rows = await sql<ConfigRow[]>`
      SELECT * FROM receive_configs WHERE sid = ${sid}
      ${q.number ? sql`AND number = ${q.number}` : sql``}
      ORDER BY created_at, id LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows.map((r) => configView(r)), limit: q.limit, offset: q.offset });
  });

  // SPEC §6: what a message, or an unsaved configuration, would do; nothing sent or stored.
  routes.add(createRoute({
    method: 'post', path: '/dry-run', operationId: 'dryRunReceiveConfig', tags: ['receive-configs'],
    summary: 'What a message, or an unsaved configuration, would do; nothing is sent or stored',
    // A sample message, or an unsaved configuration replayed over the stored messages (dryRun).
    request: {
      body: body(dryRunInput.meta({
        oneOf: [
          { required: ['number', 'message'], properties: { config: false, since: false } },
          { required: ['config', 'since'], properties: { message: false, source: false } },
        ],
      })),
    },
    responses: {
      200: json(dryRunAnswerSchema.openapi('DryRun'), 'A sample message\'s outcome and actions, or a replay\'s counts'),
      ...errors(404, { 403: `with config: ${saveRefused[403]}`, 409: `with config: as saving it would be refused, ${saveRefused[409]}` }),
    },
  }), async (c, valid) => {
    const input = await valid.json();
    return c.json(await dryRun(deps, c.get('account'), input));
  });

  routes.add(createRoute({
    method: 'get', path: '/{id}', operationId: 'getReceiveConfig', tags: ['receive-configs'], summary: 'One receive configuration',
    request: { params: idParam },
    responses: { 200: json(configSchema, 'The configuration'), ...errors(404) },
  }), async (c) => {
    const row = await findOwned(sql, c.get('account').sid, c.req.param('id')!);
    return c.json(configView(row));
  });

  routes.add(createRoute({
    method: 'put', path: '/{id}', operationId: 'replaceReceiveConfig', tags: ['receive-configs'], summary: 'Replace a receive configuration',
    request: { params: idParam, body: body(receiveConfigInputSchema) },
    responses: { 200: json(configSchema, 'The configuration'), ...errors(404, saveRefused) },
  }), async (c, valid) => {
    const account = c.get('account');
    const existing = await findOwned(sql, account.sid, c.req.param('id')!);
    const input = await valid.json();
    checkWebhookDestination('trigger.url', input.trigger?.url, deps.config.webhookAllowPrivateNetworks);
    const row = await saveConfig(sql, account, checkReceiveConfig(input, account, new Date()), existing.id);
    return c.json(configView(row));
  });

  routes.add(createRoute({
    method: 'delete', path: '/{id}', operationId: 'deleteReceiveConfig', tags: ['receive-configs'], summary: 'Delete a receive configuration',
    request: { params: idParam },
    responses: { 204: { description: 'Deleted' }, ...errors(404) },
  }), async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id')!);
    await sql`DELETE FROM receive_configs WHERE id = ${existing.id} AND sid = ${sid}`;
    return c.body(null, 204);
  });

  return routes.app;
}


/** Another account's configuration is indistinguishable from a missing one. */
async function findOwned(sql: Sql, sid: string, id: string): Promise<ConfigRow> {
  if (!UUID.test(id)) throw notFound('receive configuration');
  const [row] = await sql<ConfigRow[]>`SELECT * FROM receive_configs WHERE id = ${id} AND sid = ${sid}`;
  if (!row) throw notFound('receive configuration');
  return row;
}

/**
 * The rules that need the database (`checkConfigRules`), checked and written in one
 * transaction under a per-number lock, so two concurrent saves cannot both win. Nothing is
 * half-saved.
 */
async function saveConfig(sql: Sql, account: Account, rec: ReceiveConfigRecord, id: string | null): Promise<ConfigRow> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${'receive-config:' + rec.number}))`;
    const phrases = await checkConfigRules(tx, account, rec, id);

    const values = {
      sid: account.sid,
      number: rec.number,
      is_default: rec.isDefault,
      keyword: rec.keyword,
      aliases: rec.aliases,
      template: rec.template,
      template_names: rec.templateNames,
      expires_at_local: rec.expiresAtLocal,
      expires_at: rec.expiresAt,
      expiry_message: rec.expiryMessage,
      expiry_sender: rec.expirySender,
      expiry_route: rec.expiryRoute,
      expiry_template_id: rec.expiryTemplateId,
      auto_reply: rec.autoReply ? tx.json(rec.autoReply as never) : null,
      reply_at: rec.replyAt,
      forward: rec.forward ? tx.json(rec.forward as never) : null,
      trigger: rec.trigger ? tx.json(rec.trigger as never) : null,
      subscribe: rec.subscribe,
      unsubscribe: rec.unsubscribe ? tx.json(rec.unsubscribe as never) : null,
    };
    const [row] = id
      ? await tx<ConfigRow[]>`UPDATE receive_configs SET ${tx(values)}, updated_at = now() WHERE id = ${id} AND sid = ${account.sid} RETURNING *`
      : await tx<ConfigRow[]>`INSERT INTO receive_configs ${tx({ id: randomUUID(), ...values })} RETURNING *`;
    // Deleted by a concurrent request since it was read: as if it never existed.
    if (!row) throw notFound('receive configuration');
    await tx`DELETE FROM config_keywords WHERE config_id = ${row.id}`;
    for (const phrase of phrases) {
      await tx`INSERT INTO config_keywords (config_id, number, sid, phrase, first_word)
               VALUES (${row!.id}, ${rec.number}, ${account.sid}, ${phrase}, ${tokenize(phrase)[0]!})`;
    }
    return row!;
  });
}

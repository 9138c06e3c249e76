import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Sql } from '../../db/sql.js';
import { ValidationError } from '../../domain/errors.js';
import { phrasesOverlap, tokenize } from '../../domain/keywords.js';
import { isExpired } from '../../domain/matching.js';
import { isStandardKeyword } from '../../domain/standard-keywords.js';
import { checkReceiveConfig, receiveConfigInputSchema, type ReceiveConfigRecord } from '../../domain/receive-config.js';
import { normalizeNumber } from '../../domain/phone.js';
import { checkWebhookDestination } from '../../domain/private-networks.js';
import type { Account, AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { requireSenders } from './account.js';
import { ApiError, notFound, parseJson, parseQuery } from '../errors.js';
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
  number: z.string().transform(normalizeNumber).optional(),
  ...page(100),
});

export function receiveConfigRoutes(deps: AppDeps) {
  const { sql } = deps;
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    const account = c.get('account');
    const input = await parseJson(c, receiveConfigInputSchema);
    checkWebhookDestination('trigger.url', input.trigger?.url, deps.config.webhookAllowPrivateNetworks);
    const row = await saveConfig(sql, account, checkReceiveConfig(input, account, new Date()), null);
    return c.json(configView(row), 201);
  });

  app.get('/', async (c) => {
    const { sid } = c.get('account');
    const q = parseQuery(c, listQuery);
    const rows = await sql<ConfigRow[]>`
      SELECT * FROM receive_configs WHERE sid = ${sid}
      ${q.number ? sql`AND number = ${q.number}` : sql``}
      ORDER BY created_at, id LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows.map((r) => configView(r)), limit: q.limit, offset: q.offset });
  });

  app.get('/:id', async (c) => {
    const row = await findOwned(sql, c.get('account').sid, c.req.param('id'));
    return c.json(configView(row));
  });

  app.put('/:id', async (c) => {
    const account = c.get('account');
    const existing = await findOwned(sql, account.sid, c.req.param('id'));
    const input = await parseJson(c, receiveConfigInputSchema);
    checkWebhookDestination('trigger.url', input.trigger?.url, deps.config.webhookAllowPrivateNetworks);
    const row = await saveConfig(sql, account, checkReceiveConfig(input, account, new Date()), existing.id);
    return c.json(configView(row));
  });

  app.delete('/:id', async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id'));
    await sql`DELETE FROM receive_configs WHERE id = ${existing.id} AND sid = ${sid}`;
    return c.body(null, 204);
  });

  return app;
}


/** Another account's configuration is indistinguishable from a missing one. */
async function findOwned(sql: Sql, sid: string, id: string): Promise<ConfigRow> {
  if (!UUID.test(id)) throw notFound('receive configuration');
  const [row] = await sql<ConfigRow[]>`SELECT * FROM receive_configs WHERE id = ${id} AND sid = ${sid}`;
  if (!row) throw notFound('receive configuration');
  return row;
}

/**
 * The rules that need the database, checked and written in one transaction under a per-number
 * lock: the number is the account's; one default per number and none on a shared short code;
 * a keyword in one active configuration per number; on a shared short code a keyword belongs
 * to one account; sender IDs are the account's. Nothing is half-saved.
 */
async function saveConfig(sql: Sql, account: Account, rec: ReceiveConfigRecord, id: string | null): Promise<ConfigRow> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${'receive-config:' + rec.number}))`;
    const [num] = await tx<{ shared: boolean; standard_keywords: boolean; assigned: boolean }[]>`
      SELECT n.shared, n.standard_keywords, EXISTS (SELECT 1 FROM number_accounts na WHERE na.number = n.number AND na.sid = ${account.sid}) AS assigned
      FROM numbers n WHERE n.number = ${rec.number}`;
    if (!num?.assigned) throw new ValidationError('number', 'is not a number of this account');

    if (rec.isDefault) {
      if (num.shared) throw new ValidationError('default', 'a shared short code cannot have a default configuration');
      const [other] = await tx`SELECT id FROM receive_configs WHERE number = ${rec.number} AND is_default AND id <> ${id ?? randomUUID()}`;
      if (other) throw new ApiError(409, 'conflict', `number ${rec.number} has a default configuration already (${other.id})`, 'default');
    }

    const phrases = rec.keyword ? [rec.keyword, ...rec.aliases] : [];
    if (phrases.length > 0) {
      const fieldOf = (phrase: string) => (phrase === rec.keyword ? 'keyword' : `aliases.${rec.aliases.indexOf(phrase)}`);
      // SPEC §3.7: the number answers these words itself, before any configuration.
      const reserved = num.standard_keywords ? phrases.find(isStandardKeyword) : undefined;
      if (reserved) {
        throw new ApiError(409, 'reserved_keyword', `"${reserved}" is a standard keyword, which ${rec.number} answers itself (opt-out, opt-in or help) before any configuration`, fieldOf(reserved));
      }
      const now = new Date();
      const clashes = await tx<{ phrase: string; sid: string; id: string; expires_at: Date | null }[]>`
        SELECT k.phrase, c.sid, c.id, c.expires_at FROM config_keywords k JOIN receive_configs c ON c.id = k.config_id
        WHERE k.number = ${rec.number} AND k.phrase IN ${tx(phrases)} AND c.id <> ${id ?? randomUUID()}`;
      if (num.shared) {
        // Another account's phrase that begins ours, or that ours begins, would split one
        // customer's messages between two businesses (longest keyword wins): refused.
        const firstWords = [...new Set(phrases.map((p) => tokenize(p)[0]!))];
        const others = await tx<{ phrase: string }[]>`
          SELECT phrase FROM config_keywords
          WHERE number = ${rec.number} AND first_word IN ${tx(firstWords)} AND sid <> ${account.sid}`;
        for (const phrase of phrases) {
          const taken = others.find((o) => phrasesOverlap(o.phrase, phrase));
          if (taken) {
            throw new ApiError(409, 'keyword_taken', `"${phrase}" overlaps "${taken.phrase}", which belongs to another account on shared short code ${rec.number}`, fieldOf(phrase));
          }
        }
      }
      for (const clash of clashes) {
        if (!isExpired(rec.expiresAt, now) && !isExpired(clash.expires_at, now)) {
          throw new ApiError(409, 'keyword_taken', `"${clash.phrase}" is used by active configuration ${clash.id} on ${rec.number}`, fieldOf(clash.phrase));
        }
      }
    }

    const senders = [
      ['auto_reply.sender', rec.autoReply?.sender],
      ['forward.sms.sender', rec.forward?.sms?.sender],
      ['expiry_sender', rec.expirySender],
      ...(rec.unsubscribe?.scope === 'configured' ? rec.unsubscribe.senders.map((s, i) => [`unsubscribe.senders.${i}`, s]) : []),
    ].filter((p): p is [string, string] => typeof p[1] === 'string');
    await requireSenders(tx, account.sid, senders);

    if (rec.trigger?.callback_profile_id) {
      // FOR SHARE: a concurrent delete of the profile waits, then sees this configuration use it.
      const [profile] = await tx`SELECT 1 FROM callback_profiles WHERE id::text = ${rec.trigger.callback_profile_id} AND sid = ${account.sid} FOR SHARE`;
      if (!profile) throw new ValidationError('trigger.callback_profile_id', 'is not a callback profile of this account');
    }

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

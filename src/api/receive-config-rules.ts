import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/sql.js';
import { ValidationError } from '../domain/errors.js';
import { phrasesOverlap, tokenize } from '../domain/keywords.js';
import { isExpired } from '../domain/matching.js';
import { configPhrases, type ReceiveConfigRecord } from '../domain/receive-config.js';
import { isStandardKeyword } from '../domain/standard-keywords.js';
import type { Account } from './auth.js';
import { ApiError } from './errors.js';
import { requireSenders } from './routes/account.js';

/**
 * The rules of a receive configuration that need the database (SPEC §2, §3.7): the number is
 * the account's; one default per number and none on a shared short code; no standard keyword
 * on a number that answers them itself; a keyword in one active configuration per number; on
 * a shared short code a keyword belongs to one account; sender IDs and the callback profile
 * are the account's. `id` is the configuration being replaced (PUT), else null. A save runs
 * them inside its transaction, under the number's lock (`forSave`); the dry run runs them as
 * they are, so an unsaved configuration is refused exactly as saving it would be. Answers the
 * configuration's keyword and alias phrases.
 */
export async function checkConfigRules(tx: Queryable, account: Account, rec: ReceiveConfigRecord, id: string | null, forSave = true): Promise<string[]> {
  const [num] = await tx<{ shared: boolean; standard_keywords: boolean; assigned: boolean }[]>`
    SELECT n.shared, n.standard_keywords, EXISTS (SELECT 1 FROM number_accounts na WHERE na.number = n.number AND na.sid = ${account.sid}) AS assigned
    FROM numbers n WHERE n.number = ${rec.number}`;
  if (!num?.assigned) throw new ValidationError('number', 'is not a number of this account');

  if (rec.isDefault) {
    if (num.shared) throw new ValidationError('default', 'a shared short code cannot have a default configuration');
    const [other] = await tx`SELECT id FROM receive_configs WHERE number = ${rec.number} AND is_default AND id <> ${id ?? randomUUID()}`;
    if (other) throw new ApiError(409, 'conflict', `number ${rec.number} has a default configuration already (${other.id})`, 'default');
  }

  const phrases = configPhrases(rec);
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
    // FOR SHARE (a save): a concurrent delete of the profile waits, then sees this configuration use it.
    const [profile] = await tx`SELECT 1 FROM callback_profiles WHERE id::text = ${rec.trigger.callback_profile_id} AND sid = ${account.sid} ${forSave ? tx`FOR SHARE` : tx``}`;
    if (!profile) throw new ValidationError('trigger.callback_profile_id', 'is not a callback profile of this account');
  }
  return phrases;
}

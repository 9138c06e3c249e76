import { needsSealing, reseal, authNeedsSealing, encNeedsSealing, resealAuth, resealEnc } from '../domain/profile-secrets.js';
import type { ProfileAuth } from '../domain/callback-auth.js';
import type { EncSettings } from '../domain/encryption.js';
import type { Keyring } from '../domain/keyring.js';
import type { Sql } from './sql.js';

/**
 * Seals with the current SECRETS_KEY every stored secret that is in clear (stored before
 * sealing existed) or sealed with a previous key (after a rotation). Run at every start, after
 * the migrations; a row changed meanwhile is left for the next start (the UPDATE checks the row's
 * version, `xmin`). Returns how many rows it sealed.
 */
export async function sealStoredSecrets(sql: Sql, ring: Keyring): Promise<number> {
  let sealed = 0;
  const kid = `enc:v1:${ring.current.id}:%`;
  const profiles = await sql<{
    id: string; auth: ProfileAuth | null; enc: EncSettings | null; signing_secret: string; previous_signing_secret: string | null; version: string;
  }[]>`
    SELECT id, auth, enc, signing_secret, previous_signing_secret, xmin::text AS version FROM callback_profiles
    WHERE signing_secret NOT LIKE ${kid} OR previous_signing_secret NOT LIKE ${kid}
       OR auth->>'password' NOT LIKE ${kid} OR auth->>'client_secret' NOT LIKE ${kid}
       OR enc->>'key' NOT LIKE ${kid} OR enc->>'iv' NOT LIKE ${kid}`;
  for (const p of profiles) {
    if (!needsSealing(ring, p.signing_secret) && !needsSealing(ring, p.previous_signing_secret) && !authNeedsSealing(ring, p.auth) && !encNeedsSealing(ring, p.enc)) continue;
    const auth = resealAuth(ring, p.auth);
    const enc = resealEnc(ring, p.enc);
    const result = await sql`
      UPDATE callback_profiles SET
        signing_secret = ${reseal(ring, p.signing_secret)},
        previous_signing_secret = ${p.previous_signing_secret === null ? null : reseal(ring, p.previous_signing_secret)},
        auth = ${auth ? sql.json(auth as never) : null}, enc = ${enc ? sql.json(enc as never) : null}
      WHERE id = ${p.id} AND xmin::text = ${p.version}`;
    sealed += result.count;
  }
  const accounts = await sql<{ sid: string; signing_secret: string; previous_signing_secret: string | null }[]>`
    SELECT sid, signing_secret, previous_signing_secret FROM account_signing_secrets
    WHERE signing_secret NOT LIKE ${kid} OR previous_signing_secret NOT LIKE ${kid}`;
  for (const a of accounts) {
    if (!needsSealing(ring, a.signing_secret) && !needsSealing(ring, a.previous_signing_secret)) continue;
    const result = await sql`
      UPDATE account_signing_secrets SET
        signing_secret = ${reseal(ring, a.signing_secret)},
        previous_signing_secret = ${a.previous_signing_secret === null ? null : reseal(ring, a.previous_signing_secret)}
      WHERE sid = ${a.sid} AND signing_secret = ${a.signing_secret}
        AND previous_signing_secret IS NOT DISTINCT FROM ${a.previous_signing_secret}`;
    sealed += result.count;
  }
  return sealed;
}

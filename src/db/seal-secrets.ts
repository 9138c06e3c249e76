import { needsSealing, reseal, authNeedsSealing, encNeedsSealing, resealAuth, resealEnc } from '../domain/profile-secrets.js';
import type { ProfileAuth } from '../domain/callback-auth.js';
import type { EncSettings } from '../domain/encryption.js';
import type { Keyring } from '../domain/keyring.js';
import type { Sql } from './sql.js';

/**
 * Seals with the current SECRETS_KEY every stored secret that is in clear (stored before
 * sealing existed) or sealed with a previous key (after a rotation). Run at every start, after
 * the migrations; a row changed meanwhile is left for the next start (the UPDATE checks the row's
 * version, `xmin`). A row none of the configured keys opens (a key dropped too early, a process
 * still on the old key) is left as it is and named in the log: it must not stop the start.
 * Returns how many rows it sealed.
 */
export async function sealStoredSecrets(sql: Sql, ring: Keyring, log: (line: string) => void = () => {}): Promise<number> {
  let sealed = 0;
  const unreadable = (what: string, e: unknown) => log(`${what}: secrets not re-sealed, ${e instanceof Error ? e.message : String(e)}`);
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
    let auth, enc, signing, previous;
    try {
      [auth, enc, signing] = [resealAuth(ring, p.auth), resealEnc(ring, p.enc), reseal(ring, p.signing_secret)];
      previous = p.previous_signing_secret === null ? null : reseal(ring, p.previous_signing_secret);
    } catch (e) {
      unreadable(`callback profile ${p.id}`, e);
      continue;
    }
    const result = await sql`
      UPDATE callback_profiles SET
        signing_secret = ${signing}, previous_signing_secret = ${previous},
        auth = ${auth ? sql.json(auth as never) : null}, enc = ${enc ? sql.json(enc as never) : null}
      WHERE id = ${p.id} AND xmin::text = ${p.version}`;
    sealed += result.count;
  }
  const accounts = await sql<{ sid: string; signing_secret: string; previous_signing_secret: string | null }[]>`
    SELECT sid, signing_secret, previous_signing_secret FROM account_signing_secrets
    WHERE signing_secret NOT LIKE ${kid} OR previous_signing_secret NOT LIKE ${kid}`;
  for (const a of accounts) {
    if (!needsSealing(ring, a.signing_secret) && !needsSealing(ring, a.previous_signing_secret)) continue;
    let signing, previous;
    try {
      signing = reseal(ring, a.signing_secret);
      previous = a.previous_signing_secret === null ? null : reseal(ring, a.previous_signing_secret);
    } catch (e) {
      unreadable(`account ${a.sid}`, e);
      continue;
    }
    const result = await sql`
      UPDATE account_signing_secrets SET signing_secret = ${signing}, previous_signing_secret = ${previous}
      WHERE sid = ${a.sid} AND signing_secret = ${a.signing_secret}
        AND previous_signing_secret IS NOT DISTINCT FROM ${a.previous_signing_secret}`;
    sealed += result.count;
  }
  // SMPP bind passwords (migration 011): sealed when made; re-sealed here after a rotation.
  const binds = await sql<{ id: string; password: string }[]>`SELECT id, password FROM smpp_connections WHERE password NOT LIKE ${kid}`;
  for (const b of binds) {
    let password;
    try {
      password = reseal(ring, b.password);
    } catch (e) {
      unreadable(`SMPP connection ${b.id}`, e);
      continue;
    }
    const result = await sql`UPDATE smpp_connections SET password = ${password} WHERE id = ${b.id} AND password = ${b.password}`;
    sealed += result.count;
  }
  return sealed;
}

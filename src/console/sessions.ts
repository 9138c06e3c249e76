import { createHmac, randomBytes } from 'node:crypto';
import type { Queryable, Sql } from '../db/sql.js';
import { hashKey, sameSecret, type Account } from '../api/auth.js';

/** How long a console sign-in lasts; signing out ends it at once. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'console_session';

/**
 * Signs an account in with its sid and API key, verified as the API's `requireAccount` does
 * (SHA-256 compared in constant time). Answers the new session id, null for a wrong pair, or
 * 'disabled' (told only to the key's holder) for a disabled account (SPEC §5.2).
 * The key is not kept; the session is stored as the hash of its id only.
 */
export async function signIn(sql: Sql, sid: string, apiKey: string): Promise<{ session: string } | 'disabled' | null> {
  const [row] = await sql<{ api_key_hash: string; active: boolean }[]>`SELECT api_key_hash, active FROM accounts WHERE sid = ${sid}`;
  // An unknown sid is compared too, so the answer takes as long either way.
  if (!sameSecret(hashKey(apiKey), row?.api_key_hash ?? '') || !row) return null;
  if (!row.active) return 'disabled';
  const id = randomBytes(32).toString('base64url');
  await sql`DELETE FROM console_sessions WHERE expires_at < now()`;
  await sql`INSERT INTO console_sessions (id_hash, sid, expires_at) VALUES (${hashKey(id)}, ${sid}, ${new Date(Date.now() + SESSION_TTL_MS)})`;
  return { session: id };
}

/**
 * The signed-in account of a session id, or null (unknown, expired, signed out, or ended by a
 * key rotation or "sign out everywhere"); `active` false when the operator disabled it since.
 */
export async function sessionAccount(sql: Sql, id: string | undefined): Promise<(Account & { active: boolean }) | null> {
  if (!id) return null;
  const [row] = await sql<(Account & { active: boolean })[]>`
    SELECT a.sid, a.name, a.country, a.timezone, a.active FROM console_sessions s JOIN accounts a ON a.sid = s.sid
    WHERE s.id_hash = ${hashKey(id)} AND s.expires_at > now()`;
  return row ?? null;
}

export async function signOut(sql: Sql, id: string | undefined): Promise<void> {
  if (id) await sql`DELETE FROM console_sessions WHERE id_hash = ${hashKey(id)}`;
}

/** Ends every console session of the account (a key rotation, "sign out everywhere"); answers how many. */
export async function endSessions(sql: Queryable, sid: string): Promise<number> {
  const { count } = await sql`DELETE FROM console_sessions WHERE sid = ${sid}`;
  return count;
}

/**
 * A session's CSRF token: an HMAC of a fixed label under the session id, so it is per session,
 * needs no storage, and cannot be made without the cookie a cross-site page cannot read.
 */
export function csrfToken(sessionId: string): string {
  return createHmac('sha256', sessionId).update('console csrf').digest('base64url');
}


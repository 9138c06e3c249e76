import type { Keyring } from '../domain/keyring.js';
import { openSecret, sealSecret } from '../domain/profile-secrets.js';
import { generateSigningSecret } from '../domain/signing.js';
import type { Sql } from './sql.js';

export type SigningSecretRow = { signing_secret: string; previous_signing_secret: string | null; previous_secret_until: Date | null };

/**
 * The secret that signs an account's inline trigger URLs (those not sent through a callback
 * profile), made on first use and stored sealed. Read, opened, by the API (to show it) and by
 * the webhook activity.
 */
export async function accountSigningSecret(sql: Sql, sid: string, ring: Keyring): Promise<SigningSecretRow> {
  return openSigningSecrets(ring, await storedAccountSigningSecret(sql, sid, ring));
}

/** A row's secrets opened (SECRETS_KEY). */
export function openSigningSecrets<T extends SigningSecretRow>(ring: Keyring, row: T): T {
  return {
    ...row,
    signing_secret: openSecret(ring, row.signing_secret),
    previous_signing_secret: row.previous_signing_secret === null ? null : openSecret(ring, row.previous_signing_secret),
  };
}

async function storedAccountSigningSecret(sql: Sql, sid: string, ring: Keyring): Promise<SigningSecretRow> {
  const read = () => sql<SigningSecretRow[]>`
    SELECT signing_secret, previous_signing_secret, previous_secret_until FROM account_signing_secrets WHERE sid = ${sid}`;
  // Read first: every webhook delivery asks, and only the first one ever needs to write.
  const [row] = await read();
  if (row) return row;
  await sql`
    INSERT INTO account_signing_secrets (sid, signing_secret) VALUES (${sid}, ${sealSecret(ring, generateSigningSecret())})
    ON CONFLICT (sid) DO NOTHING`;
  return (await read())[0]!;
}

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sealStoredSecrets } from '../../src/db/seal-secrets.js';
import { generateKey, makeKeyring, openText, sealedKeyId, sealText } from '../../src/domain/keyring.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db?.drop();
});

it('seals secrets stored in clear at start, and re-seals them under a rotated key', async () => {
  const { sql } = db;
  const sid = `acc-${randomUUID().slice(0, 8)}`;
  await sql`INSERT INTO accounts (sid, name, country, api_key_hash) VALUES (${sid}, 'Rest', 'IN', 'x')`;
  const id = randomUUID();
  // As an older version stored them: in clear.
  await sql`
    INSERT INTO callback_profiles (id, sid, title, http_method, url, headers, auth, enc, signing_secret, previous_signing_secret)
    VALUES (${id}, ${sid}, 'Legacy', 'POST', 'https://example.com/mo', '{}',
            ${sql.json({ type: 'basic', username: 'u', password: 'legacy-pass' })},
            ${sql.json({ algorithm: 'AES-256-GCM', key: 'legacy-key-0123456789abcdef012345', iv: 'legacy-iv-12' })},
            'whsec_legacy', 'whsec_older')`;
  await sql`INSERT INTO account_signing_secrets (sid, signing_secret) VALUES (${sid}, 'whsec_inline')`;

  const firstKey = generateKey();
  const first = makeKeyring(firstKey, undefined, 'SECRETS_KEY');
  expect(await sealStoredSecrets(sql, first)).toBe(2);
  const dump = async () => (await sql<{ t: string }[]>`
    SELECT row_to_json(p)::text AS t FROM callback_profiles p WHERE sid = ${sid}
    UNION ALL SELECT row_to_json(s)::text FROM account_signing_secrets s WHERE sid = ${sid}`).map((r) => r.t).join('\n');
  for (const secret of ['legacy-pass', 'legacy-key-0123456789abcdef012345', 'legacy-iv-12', 'whsec_legacy', 'whsec_older', 'whsec_inline']) {
    expect(await dump()).not.toContain(secret);
  }
  // nothing left to do on the next start
  expect(await sealStoredSecrets(sql, first)).toBe(0);

  // Rotation: the new key current, the old one previous; a start re-seals everything.
  const second = makeKeyring(generateKey(), firstKey, 'SECRETS_KEY');
  expect(await sealStoredSecrets(sql, second)).toBe(2);
  const [p] = await sql`SELECT auth, enc, signing_secret, previous_signing_secret FROM callback_profiles WHERE id = ${id}`;
  const [s] = await sql`SELECT signing_secret FROM account_signing_secrets WHERE sid = ${sid}`;
  for (const v of [p!.auth.password, p!.enc.key, p!.enc.iv, p!.signing_secret, p!.previous_signing_secret, s!.signing_secret]) {
    expect(sealedKeyId(v)).toBe(second.current.id);
  }
  // readable with the new key alone: the old one can now be dropped
  const newOnly = makeKeyring(Buffer.from(second.current.bytes).toString('base64'), undefined, 'SECRETS_KEY');
  expect([openText(newOnly, p!.auth.password), openText(newOnly, p!.enc.iv), openText(newOnly, p!.previous_signing_secret), openText(newOnly, s!.signing_secret)])
    .toEqual(['legacy-pass', 'legacy-iv-12', 'whsec_older', 'whsec_inline']);
});

it('leaves a row no configured key opens as it is, naming it, and seals the rest', async () => {
  const { sql } = db;
  const sid = `acc-${randomUUID().slice(0, 8)}`;
  await sql`INSERT INTO accounts (sid, name, country, api_key_hash) VALUES (${sid}, 'Lost key', 'IN', 'x')`;
  const lost = makeKeyring(generateKey(), undefined, 'SECRETS_KEY');
  const [bad, good] = [randomUUID(), randomUUID()];
  await sql`
    INSERT INTO callback_profiles (id, sid, title, http_method, url, headers, signing_secret)
    VALUES (${bad}, ${sid}, 'Sealed with a lost key', 'POST', 'https://example.com/a', '{}', ${sealText(lost, 'whsec_gone')}),
           (${good}, ${sid}, 'In clear', 'POST', 'https://example.com/b', '{}', 'whsec_clear')`;
  const ring = makeKeyring(generateKey(), undefined, 'SECRETS_KEY');
  const lines: string[] = [];
  await sealStoredSecrets(sql, ring, (l) => lines.push(l));
  // (rows of the other test here, sealed with keys this ring lacks, are named too)
  const named = lines.filter((l) => l.includes(bad) || l.includes(good));
  expect(named).toEqual([expect.stringMatching(new RegExp(`^callback profile ${bad}: secrets not re-sealed, sealed with key ${lost.current.id}, which is not configured`))]);
  const rows = await sql<{ id: string; signing_secret: string }[]>`SELECT id, signing_secret FROM callback_profiles WHERE sid = ${sid}`;
  const byId = Object.fromEntries(rows.map((r) => [r.id, r.signing_secret]));
  expect(sealedKeyId(byId[bad]!)).toBe(lost.current.id);
  expect(openText(ring, byId[good]!)).toBe('whsec_clear');
});

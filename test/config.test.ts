import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, makeKeyring } from '../src/domain/keyring.js';
import { resolveKeys } from '../src/runtime/keys.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig: WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
  it('defaults to allowed only on npm start\'s local stack (no TEMPORAL_ADDRESS), refused by every other process', () => {
    expect(loadConfig({}, { localStack: true }).webhookAllowPrivateNetworks).toBe(true);
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }, { localStack: true }).webhookAllowPrivateNetworks).toBe(false);
    // npm run api / npm run worker, with or without TEMPORAL_ADDRESS
    expect(loadConfig({}).webhookAllowPrivateNetworks).toBe(false);
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).webhookAllowPrivateNetworks).toBe(false);
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', WEBHOOK_ALLOW_PRIVATE_NETWORKS: ' ' }).webhookAllowPrivateNetworks).toBe(false);
  });

  it('takes an explicit value over the default', () => {
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }).webhookAllowPrivateNetworks).toBe(false);
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'TRUE' }).webhookAllowPrivateNetworks).toBe(true);
  });

  it('refuses anything but true or false', () => {
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' })).toThrow('WEBHOOK_ALLOW_PRIVATE_NETWORKS: must be true or false');
  });
});

describe('SECRETS_KEY and PAYLOAD_KEY', () => {
  it('are refused when malformed, naming the variable', () => {
    expect(() => loadConfig({ SECRETS_KEY: 'too-short' })).toThrow('invalid configuration: SECRETS_KEY must be 32 bytes');
    expect(() => loadConfig({ PAYLOAD_KEY_PREVIOUS: generateKey() })).toThrow('PAYLOAD_KEY_PREVIOUS is set but PAYLOAD_KEY is not');
  });

  it('are required outside npm start, and made once and kept under DATA_DIR by npm start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    try {
      const log = () => {};
      await expect(resolveKeys(loadConfig({ DATA_DIR: dir, PAYLOAD_KEY: generateKey() }), { log })).rejects.toThrow('SECRETS_KEY must be set');
      await expect(resolveKeys(loadConfig({ DATA_DIR: dir }), { log })).rejects.toThrow('SECRETS_KEY and PAYLOAD_KEY must be set');
      const first = loadConfig({ DATA_DIR: dir }, { localStack: true });
      await resolveKeys(first, { localStack: true, log });
      const again = loadConfig({ DATA_DIR: dir }, { localStack: true });
      await resolveKeys(again, { localStack: true, log });
      expect(again.keys.secrets!.current.id).toBe(first.keys.secrets!.current.id);
      expect(again.keys.payload!.current.id).toBe(first.keys.payload!.current.id);
      expect(first.keys.secrets!.current.id).not.toBe(first.keys.payload!.current.id);
      expect((await stat(join(dir, 'dev-keys.json'))).mode & 0o777).toBe(0o600);
      // a key from the environment wins over the kept one
      const given = generateKey();
      const env = loadConfig({ DATA_DIR: dir, SECRETS_KEY: given }, { localStack: true });
      await resolveKeys(env, { localStack: true, log });
      expect(env.keys.secrets!.current.id).toBe(makeKeyring(given, undefined, 'SECRETS_KEY').current.id);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loadConfig: SMS_PROVIDER=smpp', () => {
  it('names the SMPP connection SMS are submitted over, and needs one', () => {
    expect(loadConfig({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: ' smsc-1 ' }).sms).toMatchObject({ provider: 'smpp', smppConnection: 'smsc-1' });
    expect(() => loadConfig({ SMS_PROVIDER: 'smpp' })).toThrow('SMPP_PROVIDER_CONNECTION');
  });
});

describe('loadConfig: SHUTDOWN_TIMEOUT_SECONDS and WORKER_HEALTH_PORT', () => {
  it('give a 30 s stop deadline and no worker health port by default', () => {
    const config = loadConfig({});
    expect(config.shutdownTimeoutMs).toBe(30_000);
    expect(config.workerHealthPort).toBeUndefined();
  });

  it('take a deadline in seconds and a port', () => {
    const config = loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '2.5', WORKER_HEALTH_PORT: '3001' });
    expect(config.shutdownTimeoutMs).toBe(2500);
    expect(config.workerHealthPort).toBe(3001);
  });

  it('refuse a deadline of zero and a port out of range, naming the variable', () => {
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '0' })).toThrow(/SHUTDOWN_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ WORKER_HEALTH_PORT: '70000' })).toThrow(/WORKER_HEALTH_PORT/);
    expect(() => loadConfig({ WORKER_HEALTH_PORT: 'health' })).toThrow(/WORKER_HEALTH_PORT/);
  });
});

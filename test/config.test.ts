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

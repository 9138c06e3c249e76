import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { assertGatewayServes, DEFAULT_GATEWAY, gatewayServes, messageIdFor } from '../../src/domain/gateways.js';

describe('gateways (SPEC §5)', () => {
  const gw = '3f1c2a9e-0000-4000-8000-000000000001';

  it('keeps the default gateway ids as they come and scopes every other gateway', () => {
    expect(messageIdFor(null, 'm1')).toBe('m1');
    expect(messageIdFor(gw, 'm1')).toBe(`gw:${gw}:m1`);
    expect(messageIdFor(gw, 'm1')).not.toBe(messageIdFor('3f1c2a9e-0000-4000-8000-000000000002', 'm1'));
  });

  it('lets a gateway limited to numbers deliver to those only', () => {
    expect(gatewayServes(DEFAULT_GATEWAY, '+15555550100')).toBe(true);
    const limited = { id: gw, name: 'acme', numbers: ['+15555550100', '55555'] };
    expect(gatewayServes(limited, '+15555550100')).toBe(true);
    expect(gatewayServes(limited, '55555')).toBe(true);
    expect(gatewayServes(limited, '+15555550101')).toBe(false);
    expect(() => assertGatewayServes(limited, '+15555550100')).not.toThrow();
    let err: unknown;
    try {
      assertGatewayServes(limited, '+15555550101');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ field: 'recipient', status: 403, code: 'number_not_allowed' });
  });
});

import { ValidationError } from './errors.js';

/**
 * SPEC §5 gateways: who delivered an MO. `id: null` is the default gateway, whose credential
 * is INGEST_TOKEN; every other one is a row of `gateways`, made by an operator.
 */
export type Gateway = { id: string | null; name: string; numbers: string[] | null };

export const DEFAULT_GATEWAY: Gateway = { id: null, name: 'default', numbers: null };

/**
 * SPEC §3.6: carrier ids are unique per gateway. The default gateway's ids are stored as they
 * come (as before gateways existed: logs, workflow ids `mo-<id>` and webhooks' `<id>` do not
 * change); any other gateway's are prefixed with its id, as SMPP MOs are with their
 * connection's, so two carriers that reuse an id are two messages and each one's retry finds
 * its own.
 */
export function messageIdFor(gatewayId: string | null, carrierId: string): string {
  return gatewayId === null ? carrierId : `gw:${gatewayId}:${carrierId}`;
}

/** A gateway limited to some numbers may deliver MOs to those only (null: any number). */
export function gatewayServes(gateway: Pick<Gateway, 'numbers'>, recipient: string): boolean {
  return gateway.numbers === null || gateway.numbers.includes(recipient);
}

/**
 * A gateway sending to a number it was not given is an authorization matter, not an MO's
 * metadata (SPEC §5): the carrier is told so (403 naming `recipient`), nothing is stored.
 */
export function assertGatewayServes(gateway: Gateway, recipient: string): void {
  if (gatewayServes(gateway, recipient)) return;
  throw new ValidationError('recipient', `${recipient} is not one of the numbers gateway ${JSON.stringify(gateway.name)} may deliver to`, 'number_not_allowed', 403);
}

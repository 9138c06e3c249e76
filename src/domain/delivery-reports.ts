/**
 * Delivery reports (SPEC §6 `POST /v1/delivery-reports`, §8): what a report's status says about
 * an SMS. The one list of final statuses, used by the API, the activity that records reports
 * and the workflow that waits for them. No imports: workflow code (Temporal's sandbox) uses it.
 */

/** Where a final report leaves an SMS: the outbox row's status. */
export type DeliveryOutcome = 'delivered' | 'undelivered';

/**
 * Final statuses, as gateways and SMSCs spell them (SMPP receipts abbreviate: DELIVRD, UNDELIV,
 * REJECTD). Every other status (ENROUTE, ACCEPTED, SENT, QUEUED, …) is interim: noted on the
 * SMS, never the end of its story.
 */
const FINAL: Record<string, DeliveryOutcome> = {
  DELIVERED: 'delivered',
  DELIVRD: 'delivered',
  DLVRD: 'delivered',
  FAILED: 'undelivered',
  UNDELIVERED: 'undelivered',
  UNDELIVERABLE: 'undelivered',
  UNDELIV: 'undelivered',
  UNDELIVRD: 'undelivered',
  EXPIRED: 'undelivered',
  REJECTED: 'undelivered',
  REJECTD: 'undelivered',
  DELETED: 'undelivered',
};

/**
 * Kannel's DLR types, as its `dlr-url` puts them in `%d`: delivered to the phone, not delivered
 * to the phone, queued on the SMSC, accepted by the SMSC, refused by the SMSC.
 */
export const KANNEL_DLR_TYPES: Readonly<Record<string, string>> = { '1': 'DELIVERED', '2': 'UNDELIVERED', '4': 'QUEUED', '8': 'ACCEPTED', '16': 'REJECTED' };

const STATUS_NAME = /^[A-Z][A-Z0-9_. -]{0,31}$/;

/**
 * A reported status as it is kept: a name, upper case (so `delivered` and `DELIVERED` are one
 * status), or Kannel's numeric DLR type by its name. Null when it is neither.
 */
export function deliveryStatus(raw: string | number): string | null {
  const text = String(raw).trim().toUpperCase();
  if (/^\d{1,5}$/.test(text)) return KANNEL_DLR_TYPES[String(Number(text))] ?? null;
  return STATUS_NAME.test(text) ? text : null;
}

/** Delivered or undelivered for a final status; null for an interim one (or one that is no status). */
export function deliveryOutcome(status: string | number): DeliveryOutcome | null {
  const name = deliveryStatus(status);
  return name === null ? null : (FINAL[name] ?? null);
}

export function isFinalDeliveryStatus(status: string | number): boolean {
  return deliveryOutcome(status) !== null;
}

/** A report as it is kept: on one part of an SMS (an SMPP receipt names one), or on the whole SMS (`partId` ''). */
export type PartReport = { partId: string; status: string };

/**
 * Where an SMS stands after all its reports (SPEC §8: a long SMS goes in parts, each reported
 * on by itself). Undelivered as soon as any part (or the whole) is reported undelivered, and a
 * later DELIVRD never undoes that: the customer did not get the whole text. Delivered once the
 * whole SMS is reported delivered, or each of its parts is. Null while neither is known.
 * `parts` are the SMS's part ids in order ('' for a part whose id is unknown) and how many it
 * has; null ids: the SMS was not sent in reported parts.
 */
export function smsOutcome(parts: { ids: readonly string[] | null; total: number | null }, reports: readonly PartReport[]): DeliveryOutcome | null {
  const outcomes = reports.map((r) => ({ partId: r.partId, outcome: deliveryOutcome(r.status) }));
  if (outcomes.some((o) => o.outcome === 'undelivered')) return 'undelivered';
  const delivered = new Set(outcomes.filter((o) => o.outcome === 'delivered').map((o) => o.partId));
  if (delivered.has('')) return 'delivered';
  const ids = parts.ids ?? [];
  const complete = ids.length > 0 && ids.length >= (parts.total ?? ids.length);
  return complete && ids.every((id) => id !== '' && delivered.has(id)) ? 'delivered' : null;
}

/**
 * The providers whose SMS a gateway may report on through `POST /v1/delivery-reports`: they
 * hand their SMS to an HTTP gateway or API, which reports back over HTTP. SMPP's receipts come
 * on its binds, and `log` sends nothing.
 */
export const HTTP_REPORTING_PROVIDERS: readonly string[] = ['http', 'kaleyra'];

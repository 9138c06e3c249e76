/** A send that will fail the same way again (bad request, rejected sender): do not retry. */
export class PermanentSendError extends Error {
  constructor(message: string, readonly response?: unknown) {
    super(message);
    this.name = 'PermanentSendError';
  }
}

/** A send that may succeed later (network, timeout, 408, 429, 5xx): retry. */
export class TransientSendError extends Error {
  constructor(message: string, readonly response?: unknown) {
    super(message);
    this.name = 'TransientSendError';
  }
}

/** The same rule as webhooks (SPEC §5): 408, 429 and 5xx are worth another try. */
export function httpSendError(status: number, body: string): Error {
  const message = `provider answered ${status}: ${body.slice(0, 200)}`;
  return status === 408 || status === 429 || status >= 500 ? new TransientSendError(message, body) : new PermanentSendError(message, body);
}

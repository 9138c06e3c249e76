/** A rule broken by input: becomes a 4xx naming the field. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly code = 'invalid_field',
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

import { z } from 'zod';

/** `limit` and `offset` of a list route: spread into its query schema. */
export function page(defaultLimit: number, maxLimit = 500) {
  return {
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
    offset: z.coerce.number().int().min(0).default(0),
  };
}

/** Ids the database keeps as uuid: anything else is a 404 before it reaches a query. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

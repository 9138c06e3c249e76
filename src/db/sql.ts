import postgres from 'postgres';

export type Sql = postgres.Sql;

/** One pool per process; callers close it on shutdown. */
export function createSql(url: string, options: { max?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // undefined in a query is sent as NULL.
    transform: { undefined: null },
  });
}

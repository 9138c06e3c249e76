import postgres from 'postgres';

export type Sql = postgres.Sql;
/** The pool or a transaction: what a helper needs to run queries inside either. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/** One pool per process; callers close it on shutdown. */
export function createSql(url: string, options: { max?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // undefined in a query is sent as NULL.
    transform: { undefined: null },
  });
}

import type { Sql } from '../db/sql.js';
import { tokenize } from '../domain/keywords.js';
import { firstWord, matchMessage, type KeywordCandidate, type MatchResult } from '../domain/matching.js';
import { configChange } from '../domain/consent.js';
import { countryOf, customerE164, isE164 } from '../domain/phone.js';
import type { SubscriptionChange } from '../domain/subscriptions.js';

/** What ingest needs to know about one inbound number, read once and kept until it changes. */
export type NumberRoute = {
  number: string;
  /** the number's one account; null on a shared short code (unmatched traffic is no single tenant's) */
  owner: string | null;
  /** the country of each account on the number, to read national customer numbers */
  countries: Map<string, string>;
  /** SPEC §3.7: STOP, START, HELP and the like are handled before any configuration */
  standardKeywords: boolean;
  defaultConfig: { id: string; sid: string; consent?: SubscriptionChange | null } | null;
  /** keyword and alias phrases by their first word, each with the account it belongs to (and its consent action, SPEC §5.1) */
  keywords: Map<string, (KeywordCandidate & { sid: string; consent?: SubscriptionChange | null })[]>;
};

/** `consent`: the matched configuration's subscribe or unsubscribe, which ingest records at once (SPEC §5.1). */
export type RoutedMatch = MatchResult & { sid: string | null; consent: SubscriptionChange | null };

/** SPEC §3 over a cached number: the pure matcher picks, the route says whose it is. */
export function matchRoute(route: NumberRoute | null, message: string, receivedAt: Date): RoutedMatch {
  if (!route) return { outcome: 'unknown_number', configId: null, keyword: null, matchedWords: 0, sid: null, consent: null };
  const word = firstWord(message);
  const candidates = (word && route.keywords.get(word)) || [];
  // A number on no account has nobody to opt out of and no texts: its messages stay unmatched.
  const standardKeywords = route.standardKeywords && route.countries.size > 0;
  const result = matchMessage({ message, candidates, defaultConfigId: route.defaultConfig?.id ?? null, receivedAt, standardKeywords });
  const matched = result.configId === null ? null
    : result.configId === route.defaultConfig?.id ? route.defaultConfig
    : candidates.find((c) => c.configId === result.configId)!;
  return { ...result, sid: matched ? matched.sid : route.owner, consent: matched?.consent ?? null };
}

/**
 * The route as it would be with one more configuration (an unsaved one, which the dry run
 * replays stored messages against): its phrases among the keywords, or it as the default.
 */
export function withConfig(
  route: NumberRoute,
  config: { id: string; sid: string; isDefault: boolean; keyword: string | null; phrases: string[]; expiresAt: Date | null },
): NumberRoute {
  if (config.isDefault) return { ...route, defaultConfig: { id: config.id, sid: config.sid } };
  const keywords = new Map(route.keywords);
  for (const phrase of config.phrases) {
    // keyed as config_keywords.first_word is: the phrase's first word, normalized already
    const first = tokenize(phrase)[0]!;
    keywords.set(first, [...(keywords.get(first) ?? []), { configId: config.id, sid: config.sid, phrase, keyword: config.keyword ?? phrase, expiresAt: config.expiresAt }]);
  }
  return { ...route, keywords };
}

/**
 * A national customer number is read as a number of the long code's country (the carrier's
 * network), else of the account's country (a short code); a message that is no one account's
 * (a STOP on a shared short code) takes the country of the number's accounts when they all
 * have the same one. One customer is one E.164 number for opt-outs, however the carrier
 * writes it.
 */
export function customerNumber(raw: string, recipient: string, route: NumberRoute | null, sid: string | null): string {
  if (isE164(raw)) return raw;
  const country = countryOf(recipient) ?? (sid ? route?.countries.get(sid) : soleCountry(route)) ?? null;
  return customerE164(raw, country) ?? raw;
}

function soleCountry(route: NumberRoute | null): string | undefined {
  const countries = new Set(route?.countries.values());
  return countries.size === 1 ? [...countries][0] : undefined;
}

type Entry = { route: NumberRoute | null; at: number };

/**
 * The routing of inbound numbers, kept in memory so that ingest costs one INSERT. Entries are
 * dropped when PostgreSQL says their number's routing changed (the triggers of migration 005
 * NOTIFY every API process on commit), when this process changed it (`invalidate`, at once,
 * so its own next request sees the change), and after `ttlMs` as a backstop. A lost listen
 * connection clears everything when it comes back. Expiry needs no invalidation: candidates
 * carry their `expires_at`, and matching compares it with each message's time.
 */
export class RoutingCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<NumberRoute | null>>();
  /** national digits ("9876543210") → the one long code ending in them, or the digits themselves */
  private readonly national = new Map<string, string>();
  /** bumped on every invalidation: a load that raced one is used once, not kept */
  private generation = 0;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly opts: { maxEntries?: number; ttlMs?: number } = {},
  ) {}

  /** Subscribes to routing changes made by any process; resolves once listening. */
  async listen(): Promise<void> {
    const sub = await this.sql.listen(
      'routing_changed',
      (number) => this.invalidate(number === '*' ? undefined : number),
      // Called on every (re)connect: changes made while disconnected were not heard.
      () => this.invalidate(),
    );
    this.unlisten = sub.unlisten;
  }

  async close(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
  }

  /** Forgets one number, or everything. */
  invalidate(number?: string): void {
    this.generation++;
    // A read under way may predate the change: later requests read again.
    if (number === undefined) {
      this.entries.clear();
      this.national.clear();
      this.loading.clear();
      return;
    }
    this.entries.delete(number);
    this.loading.delete(number);
  }

  /** The stored number a carrier's recipient stands for, and its routing (null: unknown number). */
  async lookup(recipient: string): Promise<{ recipient: string; route: NumberRoute | null }> {
    const number = /^\d{10}$/.test(recipient) ? await this.resolveNational(recipient) : recipient;
    const hit = this.entries.get(number);
    if (hit && Date.now() - hit.at < (this.opts.ttlMs ?? 60_000)) {
      // Most recently used last, so the oldest entry is the one dropped when full.
      this.entries.delete(number);
      this.entries.set(number, hit);
      return { recipient: number, route: hit.route };
    }
    // Concurrent requests for a number not in the cache share one read.
    let loading = this.loading.get(number);
    if (!loading) {
      const mine: Promise<NumberRoute | null> = this.load(number).finally(() => {
        if (this.loading.get(number) === mine) this.loading.delete(number);
      });
      this.loading.set(number, (loading = mine));
    }
    return { recipient: number, route: await loading };
  }

  private async load(number: string): Promise<NumberRoute | null> {
    const generation = this.generation;
    const route = await loadRoute(this.sql, number);
    if (generation === this.generation) {
      this.entries.set(number, { route, at: Date.now() });
      if (this.entries.size > (this.opts.maxEntries ?? 10_000)) this.entries.delete(this.entries.keys().next().value!);
    }
    return route;
  }

  /**
   * Numbers are stored in E.164; a carrier may send a long code's 10 national digits. When one
   * long code ends in those digits it is the one meant; otherwise the number is taken as given.
   */
  private async resolveNational(digits: string): Promise<string> {
    const known = this.national.get(digits);
    if (known !== undefined) return known;
    const generation = this.generation;
    const matches = await this.sql<{ number: string }[]>`
      SELECT number FROM numbers WHERE kind = 'long_code' AND number LIKE ${'%' + digits} LIMIT 2`;
    const resolved = matches.length === 1 ? matches[0]!.number : digits;
    if (generation === this.generation && this.national.size < (this.opts.maxEntries ?? 10_000)) this.national.set(digits, resolved);
    return resolved;
  }
}

type NumberRow = { number: string; shared: boolean; standard_keywords: boolean; accounts: { sid: string; country: string }[] };
type KeywordRow = {
  config_id: string; sid: string; phrase: string; first_word: string; keyword: string; expires_at: Date | null; is_default: boolean;
  subscribe: boolean; unsubscribe: Parameters<typeof configChange>[0]['unsubscribe'];
};

/** One number's routing as stored now (what the cache keeps; the dry run reads it fresh). */
export async function loadRoute(sql: Sql, number: string): Promise<NumberRoute | null> {
  const [[num], rows] = await Promise.all([
    sql<NumberRow[]>`
      SELECT n.number, n.shared, n.standard_keywords,
             coalesce((SELECT json_agg(json_build_object('sid', a.sid, 'country', a.country) ORDER BY a.sid)
                       FROM number_accounts na JOIN accounts a ON a.sid = na.sid WHERE na.number = n.number), '[]') AS accounts
      FROM numbers n WHERE n.number = ${number}`,
    // Keyword phrases and the default configuration in one read.
    sql<KeywordRow[]>`
      SELECT k.config_id, k.sid, k.phrase, k.first_word, c.keyword, c.expires_at, false AS is_default, c.subscribe, c.unsubscribe
      FROM config_keywords k JOIN receive_configs c ON c.id = k.config_id
      WHERE k.number = ${number}
      UNION ALL
      SELECT id, sid, '', '', NULL, NULL, true, subscribe, unsubscribe FROM receive_configs WHERE number = ${number} AND is_default`,
  ]);
  if (!num) return null;
  const keywords: NumberRoute['keywords'] = new Map();
  let defaultConfig: NumberRoute['defaultConfig'] = null;
  for (const r of rows) {
    if (r.is_default) {
      defaultConfig = { id: r.config_id, sid: r.sid, consent: configChange(r) };
      continue;
    }
    const list = keywords.get(r.first_word) ?? [];
    list.push({ configId: r.config_id, sid: r.sid, phrase: r.phrase, keyword: r.keyword, expiresAt: r.expires_at, consent: configChange(r) });
    keywords.set(r.first_word, list);
  }
  return {
    number: num.number,
    // the lowest sid, as before the cache, should a dedicated number ever hold two
    owner: num.shared ? null : (num.accounts[0]?.sid ?? null),
    countries: new Map(num.accounts.map((a) => [a.sid, a.country])),
    standardKeywords: num.standard_keywords,
    defaultConfig,
    keywords,
  };
}

/** @jsxImportSource hono/jsx */
// SPEC §5.1: one customer's consent history, from the ledger (GET /subscriptions/{msisdn}/history).
import { Status } from '../layout.js';

/** A ledger entry as the API answers it. */
export type LedgerEntryView = {
  id: string; number: string; direction: 'opt_in' | 'opt_out'; senders: string[]; cause: string; log_id: string | null;
  keyword: string | null; channel: string | null; via_number: string | null; status: string; reason: string | null;
  created_at: string; applied_at: string | null;
};

const when = (v: string | null) => (v ? new Date(v).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');
const scope = (senders: string[]) => (senders.includes('*') ? 'all sender IDs' : senders.join(', '));
const CAUSES: Record<string, string> = { mo: 'customer\'s SMS', console: 'console', api: 'API', operator: 'operator' };
const CHANNELS: Record<string, string> = { http: 'HTTP gateway', smpp: 'SMPP bind', console: 'console', api: 'API' };

export function ConsentHistory(props: { number: string; entries: LedgerEntryView[] }) {
  return (
    <>
      <p>
        Every opt-in and opt-out of <strong>{props.number}</strong>, newest first, in the order they arrived. An opt-out
        is in force from its acknowledgement; <em>pending</em> means its run has not recorded it yet.
      </p>
      <div class="table"><table class="stack">
        <thead><tr>
          <th scope="col">Arrived</th><th scope="col">Change</th><th scope="col">Scope</th><th scope="col">Cause</th>
          <th scope="col">Channel</th><th scope="col">Via number</th><th scope="col">Recorded</th>
        </tr></thead>
        <tbody>
          {props.entries.map((e) => (
            <tr>
              <td data-label="Arrived">{when(e.created_at)}</td>
              <td data-label="Change"><Status status={e.direction === 'opt_out' ? 'unsubscribed' : 'subscribed'} /></td>
              <td data-label="Scope">{scope(e.senders)}</td>
              <td data-label="Cause">
                {CAUSES[e.cause] ?? e.cause}
                {e.log_id && <> (<a href={`/console/logs/${encodeURIComponent(e.log_id)}`}>{e.keyword ?? 'message'}</a>)</>}
              </td>
              <td data-label="Channel">{e.channel ? (CHANNELS[e.channel] ?? e.channel) : '—'}</td>
              <td data-label="Via number">{e.via_number ?? '—'}</td>
              <td data-label="Recorded"><Status status={e.status} />{e.reason && <> {e.reason}</>}</td>
            </tr>
          ))}
        </tbody>
      </table></div>
      {props.entries.length === 0 && <p>No change of this customer is recorded.</p>}
    </>
  );
}

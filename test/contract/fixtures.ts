import { uiCodecPath } from '../../src/api/routes/codec.js';
import { INBOUND_WORKFLOW, workflowIdFor } from '../../src/workflows/definitions.js';
import { ADMIN_TOKEN, INGEST_TOKEN, randomId, type Ctx } from '../helpers/harness.js';

async function ok<T = any>(res: Promise<{ status: number; body: any }>, status: number): Promise<T> {
  const r = await res;
  if (r.status !== status) throw new Error(`fixture: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}

/** What the operations need to exist; each delete gets its own, so none takes another's away. */
export async function fixtures(ctx: Ctx, receiver: string) {
  const senders = ['ACME', 'BRAND'];
  const a = await ctx.account({ country: 'US', senders });
  // Rotated, disabled and limited by the fuzz: an account of its own, so the one above keeps working.
  const governed = await ctx.account({ country: 'US' });
  const call = (method: string, path: string, body?: unknown) => a.call(method, path, body);
  const profile = () => ok<{ id: string }>(call('POST', '/callback/profiles', { title: randomId('p'), http_method: 'POST', url: `${receiver}/hook` }), 201);
  const config = (keyword: string) => ok<{ id: string }>(call('POST', '/receive-configs', { number: a.number, keyword, trigger: { url: `${receiver}/mo` } }), 201);
  const gateway = () => ok<{ id: string }>(ctx.admin('POST', '/gateways', { name: randomId('gw') }), 201);
  const smpp = () => ok<{ id: string }>(ctx.admin('POST', '/smpp-connections', { name: randomId('smsc'), host: '127.0.0.1', port: 2775, system_id: 'esme', password: 'pw', enabled: false }), 201);

  // A message whose reply waits on a run that Temporal holds (no worker takes it).
  const logId = randomId('mo');
  await ctx.h.sql`INSERT INTO inbound_messages (id, sid, source, recipient, message, received_at, outcome, workflow_id, dispatch_state)
                VALUES (${logId}, ${a.sid}, '+15555550123', ${a.number}, 'later', now(), 'keyword', ${workflowIdFor(logId)}, 'started')`;
  await ctx.h.sql`INSERT INTO message_actions (log_id, type, status) VALUES (${logId}, 'auto_reply', 'scheduled')`;
  await ctx.client.workflow.start(INBOUND_WORKFLOW, { taskQueue: ctx.config.temporal.taskQueue, workflowId: workflowIdFor(logId), args: [{ messageId: logId }] });
  // Webhook deliveries that failed: one to replay alone, one (of the profile) for bulk replays,
  // which the hooks keep to that profile so that they leave the first alone.
  const failed = async (profileId: string | null) => {
    const id = randomId('dlv');
    await ctx.h.sql`INSERT INTO deliveries (id, sid, log_id, profile_id, url, method, status, attempts, last_error)
                    VALUES (${id}, ${a.sid}, ${logId}, ${profileId}, ${`${receiver}/mo`}, 'POST', 'failed', 3, 'HTTP 500')`;
    return id;
  };
  const profileId = (await profile()).id;
  const deliveryId = await failed(null);
  await failed(profileId);

  return {
    base: '', // set once the server listens
    sid: a.sid,
    governedSid: governed.sid,
    apiKey: a.apiKey,
    number: a.number,
    senders,
    receiver,
    profileId,
    profileIdToDelete: (await profile()).id,
    configId: (await config('FIXTURE')).id,
    configIdToDelete: (await config('GONE')).id,
    gatewayId: (await gateway()).id,
    gatewayIdToDelete: (await gateway()).id,
    smppId: (await smpp()).id,
    smppIdToDelete: (await smpp()).id,
    logId,
    deliveryId,
  };
}

export type Fixtures = Awaited<ReturnType<typeof fixtures>>;

/** schemathesis.toml: a credential per security scheme, and the ids each operation is to use. */
export function configToml(f: Fixtures, capability: string): string {
  const q = (v: string) => JSON.stringify(v);
  const op = (id: string, params: Record<string, string>) =>
    `[[operations]]\ninclude-operation-id = ${q(id)}\nparameters = { ${Object.entries(params).map(([k, v]) => `${q(k)} = ${q(v)}`).join(', ')} }\n`;
  return [
    '[auth.openapi.adminToken]', `bearer = ${q(ADMIN_TOKEN)}`,
    '[auth.openapi.gatewayToken]', `bearer = ${q(INGEST_TOKEN)}`,
    '[auth.openapi.apiKey]', `api_key = ${q(f.apiKey)}`,
    '[parameters]', `"path.sid" = ${q(f.sid)}`, `"path.capability" = ${q(capability)}`, `"path.number" = ${q(f.number)}`,
    '',
    op('rotateApiKey', { 'path.sid': f.governedSid }),
    op('updateAccount', { 'path.sid': f.governedSid }),
    op('getGateway', { 'path.id': f.gatewayId }),
    op('updateGateway', { 'path.id': f.gatewayId }),
    op('revokeGateway', { 'path.id': f.gatewayId }),
    op('deleteGateway', { 'path.id': f.gatewayIdToDelete }),
    op('getSmppConnection', { 'path.id': f.smppId }),
    op('updateSmppConnection', { 'path.id': f.smppId }),
    op('deleteSmppConnection', { 'path.id': f.smppIdToDelete }),
    op('getCallbackProfile', { 'path.id': f.profileId }),
    op('updateCallbackProfile', { 'path.id': f.profileId }),
    op('getCallbackProfileSecret', { 'path.id': f.profileId }),
    op('rotateCallbackProfileSecret', { 'path.id': f.profileId }),
    op('deleteCallbackProfile', { 'path.id': f.profileIdToDelete }),
    op('getReceiveConfig', { 'path.id': f.configId }),
    op('replaceReceiveConfig', { 'path.id': f.configId }),
    op('deleteReceiveConfig', { 'path.id': f.configIdToDelete }),
    op('getLog', { 'path.id': f.logId }),
    op('changeScheduledReply', { 'path.id': f.logId }),
    op('getDelivery', { 'path.id': f.deliveryId }),
    // The fixture account's own sender ID, moved to that same account (the hooks set the sid).
    op('reassignSenderId', { 'path.sender_id': f.senders[0]! }),
    op('replayDelivery', { 'path.id': f.deliveryId }),
  ].join('\n');
}

/** The Temporal UI's codec capability (the last segment of its path). */
export const capability = () => uiCodecPath(ADMIN_TOKEN).split('/').at(-1)!;

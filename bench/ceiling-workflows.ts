// The Temporal ceiling's workflow (bundled by the worker in bench/temporal-ceiling.ts): the
// least a durable run per MO can be. One local activity posts the MO to the webhook
// receiver: one workflow task, no activity task on the server, no extra round trip.
import { proxyLocalActivities } from '@temporalio/workflow';

export type CeilingMo = { id: string; source: string; recipient: string; message: string };
export type CeilingActivities = { deliver(mo: CeilingMo): Promise<void> };

const { deliver } = proxyLocalActivities<CeilingActivities>({ startToCloseTimeout: '30 seconds' });

export async function ceilingWorkflow(mo: CeilingMo): Promise<void> {
  await deliver(mo);
}

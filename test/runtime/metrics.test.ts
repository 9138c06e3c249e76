import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayLabel, metricsText, setSdkMetricsUrl } from '../../src/runtime/metrics.js';
import { freePort } from '../helpers/net.js';
import { parseMetrics } from '../helpers/metrics.js';

let server: Server | null = null;
afterEach(async () => {
  setSdkMetricsUrl(null);
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

describe('metricsText', () => {
  it("is this registry's families alone when no SDK exporter runs in the process", async () => {
    const text = await metricsText();
    expect(text).toContain('# TYPE sms_mo_received_total counter');
    expect(text).not.toContain('temporal_');
    expect(() => parseMetrics(text)).not.toThrow();
  });

  it("appends the Temporal SDK exporter's text, so one scrape has both", async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('# TYPE temporal_num_pollers gauge\ntemporal_num_pollers{poller_type="workflow_task"} 2\n');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    setSdkMetricsUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    const text = await metricsText();
    const samples = parseMetrics(text);
    expect(samples.find((x) => x.name === 'temporal_num_pollers')).toMatchObject({ labels: { poller_type: 'workflow_task' }, value: 2 });
    expect(text).toContain('# TYPE sms_http_requests_total counter');
  });

  it("still answers with ours, and says why, when the SDK's exporter does not", async () => {
    setSdkMetricsUrl(`http://127.0.0.1:${await freePort()}/metrics`);
    const text = await metricsText();
    expect(text).toContain('# TYPE sms_http_requests_total counter');
    expect(text).toMatch(/^# Temporal SDK metrics unavailable: .+$/m);
    expect(() => parseMetrics(text)).not.toThrow();
  });
});

describe('gatewayLabel', () => {
  it("is the gateway's id, or `default` for INGEST_TOKEN and an SMPP connection with none", () => {
    expect(gatewayLabel('3f2b8c9e')).toBe('3f2b8c9e');
    expect(gatewayLabel(null)).toBe('default');
    expect(gatewayLabel(undefined)).toBe('default');
  });
});

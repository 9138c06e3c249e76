import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stopParts, type Stoppable } from '../../src/runtime/shutdown.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('stopParts', () => {
  it('stops the parts in reverse start order, on past a failing one, and says one failed', async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const parts: Stoppable[] = [
      { name: 'database', stop: async () => void order.push('database') },
      { name: 'broken', stop: async () => { order.push('broken'); throw new Error('boom'); } },
      { name: 'api', stop: async () => void order.push('api') },
    ];
    expect(await stopParts(parts, (l) => lines.push(l), 10_000)).toBe(false);
    expect(order).toEqual(['api', 'broken', 'database']);
    expect(lines).toEqual([expect.stringMatching(/while stopping broken: Error: boom/)]);
  });

  it('gives up at the deadline, naming the part still stopping, and leaves the rest', async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const parts: Stoppable[] = [
      { name: 'database', stop: async () => void order.push('database') },
      { name: 'worker', stop: () => new Promise<void>(() => {}) },
      { stop: async () => void order.push('unnamed') },
    ];
    expect(await stopParts(parts, (l) => lines.push(l), 300)).toBe(false);
    expect(order).toEqual(['unnamed']);
    expect(lines).toEqual([expect.stringMatching(/deadline of 0.3 s \(SHUTDOWN_TIMEOUT_SECONDS\) passed while stopping worker/)]);
  });
});

type Exit = { code: number | null; signal: NodeJS.Signals | null; output: string };

/** The fixture process; `signals` are sent once it runs, `gapMs` apart. */
async function runFixture(env: Record<string, string>, signals: NodeJS.Signals[], gapMs = 0): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/stop-on-signals.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    for (let i = 0; i < 600 && !output.includes('running'); i++) await new Promise((r) => setTimeout(r, 100));
    if (!output.includes('running')) throw new Error(`the fixture did not start:\n${output}`);
    for (const [i, signal] of signals.entries()) {
      if (i > 0 && gapMs) await new Promise((r) => setTimeout(r, gapMs));
      child.kill(signal);
    }
    return await exited;
  } finally {
    clearTimeout(guard);
    child.kill('SIGKILL');
  }
}

describe('stopOnSignals, in a process of its own', () => {
  it('SIGTERM stops every part and exits 0', async () => {
    const exit = await runFixture({ STOP_MS: '0' }, ['SIGTERM']);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.output).toMatch(/SIGTERM: stopping[\s\S]*last started: stopped[\s\S]*first started: stopped/);
  });

  it('exits 1 at SHUTDOWN_TIMEOUT, naming the part that did not stop', async () => {
    const exit = await runFixture({ STOP_MS: 'never', SHUTDOWN_MS: '500' }, ['SIGINT']);
    expect(exit).toMatchObject({ code: 1, signal: null });
    expect(exit.output).toMatch(/passed while stopping last started/);
    expect(exit.output).not.toMatch(/first started: stopped/);
  });

  it('a second Ctrl-C exits at once', async () => {
    const exit = await runFixture({ STOP_MS: 'never' }, ['SIGINT', 'SIGINT'], 1500);
    expect(exit).toMatchObject({ code: 1, signal: null });
    expect(exit.output).toMatch(/SIGINT again: exiting without waiting/);
  });

  it('takes the same Ctrl-C relayed by npm (a repeat within a second) as one', async () => {
    const exit = await runFixture({ STOP_MS: '1500' }, ['SIGINT', 'SIGINT']);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.output).not.toMatch(/SIGINT again/);
    expect(exit.output).toMatch(/last started: stopped[\s\S]*first started: stopped/);
  });
});

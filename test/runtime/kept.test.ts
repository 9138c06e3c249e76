// runtime/kept.ts: a kept child lives in its own process group, stops when its stop() is called
// or when the process that started it dies by kill -9, and one left running (its keeper killed
// too) is found by its pid file and stopped by the next start.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapStale, spawnKept } from '../../src/runtime/kept.js';
import { eventually } from '../helpers/wait.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kept-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stat(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
const alive = (pid: number) => {
  const s = stat(pid);
  return s !== null && s[0] !== 'Z';
};
const pidIn = (file: string) => Number(readFileSync(file, 'utf8').trim());

describe('spawnKept', () => {
  it('runs the child in a process group of its own and stops it with its signal', async () => {
    const pidFile = join(dir, 'a.pid');
    const kept = spawnKept({ command: 'sleep', args: ['300'], stopSignal: 'SIGTERM', graceMs: 5000, pidFile });
    await eventually('the pid file', async () => existsSync(pidFile));
    const pid = pidIn(pidFile);
    expect(alive(pid)).toBe(true);
    expect(Number(stat(pid)![2])).not.toBe(Number(stat(process.pid)![2]));
    await kept.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('kills a child that ignores its stop signal once the grace time is over', async () => {
    const pidFile = join(dir, 'b.pid');
    const kept = spawnKept({ command: 'sh', args: ['-c', "trap '' TERM; while :; do sleep 0.1; done"], stopSignal: 'SIGTERM', graceMs: 500, pidFile });
    await eventually('the pid file', async () => existsSync(pidFile));
    await kept.stop();
    expect(await kept.exited).toBe(137);
  });

  it('stops the child when the process that started it is killed with SIGKILL', async () => {
    const pidFile = join(dir, 'c.pid');
    const script = join(dir, 'parent.mjs');
    const kept = fileURLToPath(new URL('../../src/runtime/kept.ts', import.meta.url));
    await writeFile(script, `const { spawnKept } = await import(${JSON.stringify(kept)});
spawnKept({ command: 'sleep', args: ['300'], stopSignal: 'SIGTERM', graceMs: 5000, pidFile: ${JSON.stringify(pidFile)} });
setInterval(() => {}, 1000);`);
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
    await eventually('the pid file', async () => existsSync(pidFile));
    const pid = pidIn(pidFile);
    parent.kill('SIGKILL');
    await eventually('the child stopped after its parent was killed', async () => !alive(pid));
    await eventually('the pid file removed', async () => !existsSync(pidFile));
  });
});

describe('reapStale', () => {
  it('stops a process the pid file names when its command line names the marker', async () => {
    const marker = join(dir, 'marker-data');
    const orphan = spawn('sh', ['-c', 'sleep 300; : "$0"', marker], { stdio: 'ignore', detached: true });
    const pidFile = join(dir, 'd.pid');
    await writeFile(pidFile, `${orphan.pid}\n`);
    expect(await reapStale(pidFile, marker, 'SIGTERM', 5000)).toBe(orphan.pid);
    expect(alive(orphan.pid!)).toBe(false);
  });

  it('leaves alone a child whose keeper still lives: another start is using it', async () => {
    const marker = join(dir, 'marker-live');
    const pidFile = join(dir, 'f.pid');
    const kept = spawnKept({ command: 'sh', args: ['-c', 'sleep 300; : "$0"', marker], stopSignal: 'SIGTERM', graceMs: 5000, pidFile });
    await eventually('the pid file', async () => existsSync(pidFile));
    const pid = pidIn(pidFile);
    expect(await reapStale(pidFile, marker, 'SIGTERM', 1000)).toBeNull();
    expect(alive(pid)).toBe(true);
    await kept.stop();
  });

  it('leaves alone a pid that names something else, and a missing pid file', async () => {
    const other = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pidFile = join(dir, 'e.pid');
    await writeFile(pidFile, `${other.pid}\n`);
    expect(await reapStale(pidFile, join(dir, 'marker-data'), 'SIGTERM', 1000)).toBeNull();
    expect(alive(other.pid!)).toBe(true);
    other.kill('SIGKILL');
    expect(await reapStale(join(dir, 'missing.pid'), 'x', 'SIGTERM', 1000)).toBeNull();
  });
});

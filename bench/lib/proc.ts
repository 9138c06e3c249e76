// Child processes of the bench (spawn, wait for "ready", stop) and their CPU time, read from
// /proc. Linux only, like the machine the figures are taken on.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`, normally 100). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

type Stat = { pid: number; comm: string; ppid: number; ticks: number };

/** One /proc/<pid>/stat, or null once the process is gone. */
function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm sits in parentheses and may itself hold spaces or ')': the fields follow the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
  return { pid, comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }; // utime + stime
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** User + system CPU seconds a process has used so far (its threads included), or null once gone. */
export function cpuSeconds(pid: number): number | null {
  const s = readStat(pid);
  return s ? s.ticks / CLK_TCK : null;
}

/**
 * The pid of a direct child of `ppid` whose command name starts with `commPrefix`: how the
 * bench finds a Temporal dev server that `startTemporalDevServer` spawned, which does not
 * expose its ChildProcess.
 */
export function findChildPid(ppid: number, commPrefix: string): number | null {
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (s && s.ppid === ppid && s.comm.startsWith(commPrefix)) return pid;
  }
  return null;
}

/** A descendant at any depth: `npm start` runs its dev server under a keeper (runtime/kept.ts). */
export function findDescendantPid(root: number, commPrefix: string): number | null {
  const stats = allPids().map((pid) => ({ pid, s: readStat(pid) }));
  const below = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const { pid, s } of stats) {
      if (s && below.has(s.ppid) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  for (const { pid, s } of stats) if (pid !== root && below.has(pid) && s?.comm.startsWith(commPrefix)) return pid;
  return null;
}

/**
 * CPU seconds of every PostgreSQL process (postmaster and backends) alive now, by pid.
 * Approximate: a backend that exits between two readings takes its ticks with it.
 */
const notPostgres = new Set<number>();
export function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of allPids()) {
    if (notPostgres.has(pid)) continue;
    const s = readStat(pid);
    if (!s) continue;
    if (s.comm === 'postgres') out.set(pid, s.ticks / CLK_TCK);
    else notPostgres.add(pid); // a pid is not reused within a bench run in practice
  }
  return out;
}

/** CPU seconds used between two postgresCpu() readings; a backend that started since counts in full. */
export function postgresCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

export type Child = {
  name: string;
  pid: number;
  logFile: string;
  /** processes the child started that must not outlive the bench (its Temporal dev server) */
  descendants: { pid: number; comm: string }[];
  stop: () => Promise<void>;
  exited: Promise<void>;
  running: () => boolean;
};

const live = new Set<Child>();

/** SIGKILLs a process if it still exists and still is what we started (guards against pid reuse). */
function killIfAlive(pid: number, commPrefix: string): void {
  const s = readStat(pid);
  if (s && s.comm.startsWith(commPrefix)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

/**
 * Spawns `node --import tsx <script>` with its stdout and stderr copied to `logFile`, and
 * waits until a stdout line matches `ready`. A child that exits (or stays silent past
 * `readyTimeoutMs`) first fails with the log file's path and its last lines.
 */
export async function startChild(opts: {
  name: string;
  script: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  ready: RegExp;
  readyTimeoutMs: number;
  /** how long SIGINT gets to stop it before SIGKILL */
  stopTimeoutMs: number;
}): Promise<Child> {
  const log = createWriteStream(opts.logFile);
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', opts.script], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = ''; // both streams, for the error message
  let stdoutTail = ''; // where the ready line is looked for
  let isReady: () => void = () => {};
  const readySeen = new Promise<void>((r) => (isReady = r));
  proc.stdout!.on('data', (d: Buffer) => {
    log.write(d);
    tail = (tail + d.toString()).slice(-4000);
    stdoutTail = (stdoutTail + d.toString()).slice(-4000);
    if (opts.ready.test(stdoutTail)) isReady();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    log.write(d);
    tail = (tail + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const child: Child = {
    name: opts.name,
    pid: proc.pid!,
    logFile: opts.logFile,
    descendants: [],
    exited,
    running: () => proc.exitCode === null && proc.signalCode === null,
    stop: async () => {
      if (child.running()) {
        proc.kill('SIGINT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), opts.stopTimeoutMs);
        await exited;
        clearTimeout(timer);
      }
      // A child killed before it could stop its own dev server leaves that server running.
      for (const d of child.descendants) killIfAlive(d.pid, d.comm);
      live.delete(child);
      await new Promise<void>((r) => log.end(() => r()));
    },
  };
  live.add(child);
  const failure = (why: string) =>
    new Error(`${opts.name} ${why}; its log is ${opts.logFile}:\n${tail.split('\n').slice(-25).join('\n')}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      readySeen,
      exited.then(() => Promise.reject(failure(`exited (code ${proc.exitCode}, signal ${proc.signalCode}) before it was ready`))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(failure(`was not ready within ${opts.readyTimeoutMs / 1000} s`)), opts.readyTimeoutMs))),
    ]);
  } catch (e) {
    await child.stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return child;
}

/** Finds the child's Temporal dev server and records it to be killed with the child. */
export function adoptTemporalDevServer(child: Child): number {
  const pid = findDescendantPid(child.pid, 'temporal');
  if (pid === null) throw new Error(`${child.name}: no Temporal dev server among its descendants (see ${child.logFile})`);
  child.descendants.push({ pid, comm: 'temporal' });
  return pid;
}

/** Stops every child still running, in parallel (the bench is ending). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop().catch(() => {})));
}

/** Last resort on process exit: no waiting possible, so SIGKILL children and their dev servers. */
export function killAllChildrenNow(): void {
  for (const c of live) {
    killIfAlive(c.pid, 'node');
    for (const d of c.descendants) killIfAlive(d.pid, d.comm);
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const KEEPER = fileURLToPath(new URL('./keeper.mjs', import.meta.url));

export type KeptSpec = {
  command: string;
  args: string[];
  /** run the child as this user (PostgreSQL refuses root) */
  uid?: number;
  gid?: number;
  /** what stops it cleanly: SIGINT is PostgreSQL's fast shutdown, SIGTERM the dev server's */
  stopSignal: NodeJS.Signals;
  /** after this, the keeper kills it */
  graceMs: number;
  /** the keeper writes the child's pid here while it runs (for reapStale at the next start) */
  pidFile?: string;
  env?: NodeJS.ProcessEnv;
};

export type Kept = {
  /** the keeper, whose stderr is the child's */
  keeper: ChildProcess;
  /** resolves when the keeper (so the child) has exited */
  exited: Promise<number | null>;
  /** stops the child (its stop signal, then SIGKILL after graceMs) and waits for it */
  stop: () => Promise<void>;
};

/**
 * Runs a child of the local stack under a keeper (runtime/keeper.mjs): in a process group of
 * its own, so a terminal's Ctrl-C does not stop it under the API and worker still using it, and
 * stopped by the keeper as soon as this process's end of the keeper's stdin closes, which the
 * kernel does however this process dies (kill -9 included). stderr is piped.
 */
export function spawnKept(spec: KeptSpec): Kept {
  const { env, ...rest } = spec;
  const keeper = spawn(process.execPath, [KEEPER, JSON.stringify(rest)], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
    env: env ?? process.env,
  });
  // A keeper gone first (killed by hand) must not make our write to its stdin an uncaught error.
  keeper.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((res) => keeper.once('exit', (code) => res(code)));
  return {
    keeper,
    exited,
    stop: async () => {
      if (keeper.exitCode !== null || keeper.signalCode !== null) return;
      keeper.stdin!.end();
      await exited;
    },
  };
}

/**
 * A child an earlier start left running (its keeper killed with it, the pid file still there,
 * the process alive and its command line naming `marker`): stopped before this start runs its
 * own. One whose keeper still lives belongs to a start that is running: left alone. Returns
 * the pid it stopped, or null. Waits at most `graceMs`, then kills it.
 */
export async function reapStale(pidFile: string, marker: string, signal: NodeJS.Signals, graceMs: number): Promise<number | null> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0]!.trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return null;
  if (!commandLine(pid)?.includes(marker)) return null;
  // Still kept: another start (or `npm run migrate`) is using this data dir now. Left running;
  // this start then fails on its port or lock, saying so, instead of stopping the other's.
  const parent = parentOf(pid);
  if (parent !== null && commandLine(parent)?.includes(KEEPER)) return null;
  try {
    process.kill(pid, signal);
  } catch {
    return null;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  return pid;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** Alive and not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

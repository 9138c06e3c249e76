// The keeper of one child of `npm start` (the embedded PostgreSQL, the Temporal dev server).
// It runs in a process group of its own, so a terminal's Ctrl-C never reaches it or the child:
// the service stops its API and worker first and only then its keepers (runtime/kept.ts).
//
// It stops the child when its stdin closes: the service closes it to stop the child, and the
// kernel closes it when the service dies by any means (kill -9, an OOM kill, a crash). So a
// child never outlives the service. Plain JavaScript, no tsx: it starts in a few milliseconds.
//
// argv[2] is JSON: { command, args, uid?, gid?, stopSignal, graceMs, pidFile? }.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';

const spec = JSON.parse(process.argv[2]);
const child = spawn(spec.command, spec.args, {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: process.env,
  ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}),
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  try {
    child.kill(spec.stopSignal);
  } catch {
    // exited already
  }
  // A child that ignores its stop signal is killed; the keeper never waits for ever.
  setTimeout(() => child.kill('SIGKILL'), spec.graceMs).unref();
}

child.once('spawn', () => {
  if (spec.pidFile) writeFileSync(spec.pidFile, `${child.pid}\n`);
});
child.once('error', (e) => {
  process.stderr.write(`keeper: ${spec.command}: ${e.message}\n`);
  // As a shell says it: 127 not found, 126 found but not runnable.
  process.exit(e.code === 'ENOENT' ? 127 : 126);
});
child.once('exit', (code, signal) => {
  if (spec.pidFile) rmSync(spec.pidFile, { force: true });
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
});

// The terminal's signals are not for us (we are in our own group, but a `kill` of the whole
// session may still come): only stdin's end or an explicit SIGTERM stops the child.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();

import { Writable } from 'node:stream';

/** A pino destination that keeps each JSON line it is given, parsed. */
export function captureLines(): { stream: Writable; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { stream, lines };
}

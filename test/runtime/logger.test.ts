import { describe, expect, it } from 'vitest';
import {
  addLogFields,
  createLogger,
  lineLog,
  sdkFields,
  sdkLevel,
  serializeError,
  temporalLogger,
  withLogFields,
  type Log,
  type LogFields,
} from '../../src/runtime/logger.js';
import { captureLines } from '../helpers/logs.js';

describe('the SDK log adapter', () => {
  it('maps each of the SDK levels to ours', () => {
    expect(sdkLevel('TRACE')).toBe('trace');
    expect(sdkLevel('DEBUG')).toBe('debug');
    expect(sdkLevel('INFO')).toBe('info');
    expect(sdkLevel('WARN')).toBe('warn');
    expect(sdkLevel('ERROR')).toBe('error');
  });

  it("names an MO's run by the MO's id too, and takes the SDK's error as `err`", () => {
    const error = new Error('boom');
    const fields = sdkFields({ workflowId: 'mo-abc-1', runId: 'r1', sdkComponent: 'worker', error });
    expect(fields).toMatchObject({ workflowId: 'mo-abc-1', moId: 'abc-1', runId: 'r1', sdkComponent: 'worker', err: error });
    expect(fields.error).toBeUndefined();
    // Other workflows (the retention schedule's) name no MO.
    expect(sdkFields({ workflowId: 'inbound-sms-retention-2026' }).moId).toBeUndefined();
    // A `level` of the SDK's own does not become the line's level.
    expect(sdkFields({ level: 'x' })).toEqual({ sdkLevel: 'x' });
  });

  it("writes the SDK's lines at their level, and one level lower when demoted (the bundler's report)", () => {
    const seen: [string, LogFields | undefined][] = [];
    const log: Log = (line, fields) => seen.push([line, fields]);
    const sdk = temporalLogger(log);
    sdk.info('Worker state changed', { state: 'RUNNING', taskQueue: 'q' });
    sdk.log('WARN', 'careful');
    sdk.error('bad');
    const quiet = temporalLogger(log, { demote: true });
    quiet.info('asset workflow-bundle.js 1.2 MiB');
    quiet.debug('detail');
    quiet.error('Webpack finished with errors');
    expect(seen.map(([line, f]) => [line, f?.level])).toEqual([
      ['Worker state changed', 'info'],
      ['careful', 'warn'],
      ['bad', 'error'],
      ['asset workflow-bundle.js 1.2 MiB', 'debug'],
      ['detail', 'trace'],
      ['Webpack finished with errors', 'error'],
    ]);
    expect(seen[0]![1]).toMatchObject({ state: 'RUNNING', taskQueue: 'q' });
  });
});

describe('serializeError', () => {
  it('keeps type, message, code, stack and the cause, never the enumerable extras (a query and its parameters)', () => {
    const err = Object.assign(new Error('duplicate key', { cause: new TypeError('inner') }), {
      code: '23505',
      query: 'INSERT INTO inbound_messages ...',
      parameters: ['+919812345678', 'JOIN Priya Pune'],
    });
    const out = serializeError(err);
    expect(out).toMatchObject({ type: 'Error', message: 'duplicate key', code: '23505', cause: 'TypeError: inner' });
    expect(typeof out.stack).toBe('string');
    expect(JSON.stringify(out)).not.toContain('Priya');
    expect(JSON.stringify(out)).not.toContain('+919812345678');
    expect(serializeError('plain')).toEqual({ message: 'plain' });
  });
});

describe('createLogger', () => {
  it('writes JSON lines with the level as a word, an ISO time, the message and the fields', () => {
    const { stream, lines } = captureLines();
    const log = lineLog(createLogger({ level: 'info', name: 'test', destination: stream }));
    log('plain line');
    log('a warning', { level: 'warn', moId: 'm1', workflowId: 'mo-m1', gateway: 'default' });
    log('not shown', { level: 'debug' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'plain line', name: 'test' });
    expect(new Date(lines[0]!.time).toISOString()).toBe(lines[0]!.time);
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'a warning', moId: 'm1', workflowId: 'mo-m1', gateway: 'default' });
    expect(lines[1]!.level).toBe('warn');
  });

  it("puts the scope's fields on every line logged inside it, and only there", async () => {
    const { stream, lines } = captureLines();
    const log = lineLog(createLogger({ level: 'info', destination: stream }));
    await withLogFields({ requestId: 'r-1' }, async () => {
      log('first');
      await new Promise((r) => setTimeout(r, 1));
      addLogFields({ moId: 'm-9' });
      log('after a timer');
      // A fresh scope drops the caller's fields; a call's own fields win over the scope's.
      withLogFields({ moId: 'm-2' }, () => log('fresh'), { fresh: true });
      log('own fields win', { moId: 'm-3' });
    });
    log('outside');
    expect(lines.map((l) => [l.msg, l.requestId, l.moId])).toEqual([
      ['first', 'r-1', undefined],
      ['after a timer', 'r-1', 'm-9'],
      ['fresh', undefined, 'm-2'],
      ['own fields win', 'r-1', 'm-3'],
      ['outside', undefined, undefined],
    ]);
  });

  it('censors fields named after credentials, and serializes errors without their extras', () => {
    const { stream, lines } = captureLines();
    const log = lineLog(createLogger({ level: 'info', destination: stream }));
    const err = Object.assign(new Error('db down'), { parameters: ['secret text'] });
    log('oops', { level: 'error', err, token: 'abc', headers: { authorization: 'Bearer xyz' } });
    expect(lines[0]).toMatchObject({ token: '[redacted]', headers: { authorization: '[redacted]' }, err: { type: 'Error', message: 'db down' } });
    expect(JSON.stringify(lines[0])).not.toContain('secret text');
    expect(JSON.stringify(lines[0])).not.toContain('xyz');
  });
});

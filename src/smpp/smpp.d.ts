// The `smpp` package (0.5.x) ships no types: what this project uses of it.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  namespace smpp {

  export class PDU {
    constructor(command: string, options?: Record<string, unknown>);
    command: string;
    command_status: number;
    sequence_number: number;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
    [field: string]: any;
  }

  export class Session extends EventEmitter {
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    socket: Socket;
    [command: string]: any;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: Record<string, unknown>, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
  export function createServer(listener?: (session: Session) => void): Server;

  export const commands: Record<string, { params?: Record<string, { filter?: Filter }> }>;
  export const tlvs: Record<string, { filter?: Filter }>;
  export type Filter = { encode: (this: PDU, value: unknown) => unknown; decode: (this: PDU, value: unknown, skipUdh?: boolean) => unknown };

  export const ESME_ROK: number;
  export const ESME_RSYSERR: number;
  export const ESME_RINVSRCADR: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RX_T_APPN: number;
  export const ESME_RBINDFAIL: number;
  }
  export = smpp;
}

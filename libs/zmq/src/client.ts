import { Dealer } from 'zeromq';
import { isGrpcError, ServiceError, status } from '@orrery/grpc';
import { rpcClientDuration, secondsSince } from '@orrery/metrics';
import { currentTraceparent, SpanKind, withSpan, type Link } from '@orrery/telemetry';
import { OK_STATUS, PROBE_TRACEPARENT } from './frames';
import { SerialSender } from './serial-sender';

export interface ZmqClientOptions {
  readonly endpoint: string;
  /** Used in span names: `<name> request`. */
  readonly name: string;
  /** Default deadline of a request in ms. */
  readonly timeoutMs: number;
}

interface Pending {
  resolve(body: Buffer): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** A DEALER that sends requests to a ROUTER and matches replies by request id (see frames.ts). */
export class ZmqRequestClient {
  private readonly dealer = new Dealer({ linger: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000 });
  private readonly sender = new SerialSender(this.dealer);
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private readonly receiving: Promise<void>;

  constructor(private readonly options: ZmqClientOptions) {
    this.dealer.connect(options.endpoint);
    this.receiving = this.receiveReplies();
  }

  /**
   * Sends one request and resolves with the reply payload. Rejects with a ServiceError carrying
   * the server's status, or DEADLINE_EXCEEDED when no reply came in time. `links`: spans of other
   * traces the request works for (the calls merged into it).
   */
  request(payload: Uint8Array, timeoutMs = this.options.timeoutMs, links?: readonly Link[]): Promise<Buffer> {
    return this.requestDecoded(payload, (body) => body, timeoutMs, links);
  }

  /**
   * As request, resolving with `decode(reply payload)`, run inside the request's span: a reply that
   * `decode` refuses by throwing (an answer that carries an error of the service's own, such as
   * scoring's "no model") marks the span failed, as a failed request does, while the status code
   * and the metric say what the transport answered (OK).
   */
  requestDecoded<T>(payload: Uint8Array, decode: (body: Buffer) => T, timeoutMs = this.options.timeoutMs, links?: readonly Link[]): Promise<T> {
    const attributes = { 'messaging.system': 'zeromq', 'rpc.system': 'zeromq', 'server.address': this.options.endpoint };
    return withSpan(`${this.options.name} request`, { kind: SpanKind.CLIENT, attributes, ...(links ? { links } : {}) }, (span) => {
      const started = process.hrtime.bigint();
      const reply = this.exchange(currentTraceparent(), payload, timeoutMs, 'reply');
      // The status code on the span as on the metric (withSpan marks the span failed on a rejection).
      const observe = (code: status): void => {
        span.setAttribute('rpc.grpc.status_code', code);
        rpcClientDuration.observe({ transport: 'zeromq', method: this.options.name, code: status[code] }, secondsSince(started));
      };
      return reply.then(
        (body) => {
          observe(status.OK);
          return decode(body);
        },
        (error: unknown) => {
          observe(error instanceof ServiceError ? error.code : isGrpcError(error) ? error.code : status.UNKNOWN);
          throw error;
        },
      );
    });
  }

  /**
   * Liveness probe (the probe marker instead of a traceparent, answered by the server's receive loop; see frames.ts):
   * resolves once the server answers, rejects with DEADLINE_EXCEEDED when it does not within
   * timeoutMs. Neither traced nor counted in the request metrics.
   */
  probe(timeoutMs: number): Promise<void> {
    return this.exchange(PROBE_TRACEPARENT, Buffer.alloc(0), timeoutMs, 'answer to a probe').then(() => undefined);
  }

  private exchange(traceparent: string, payload: Uint8Array, timeoutMs: number, awaited: string): Promise<Buffer> {
    const requestId = (this.nextId++).toString(36);
    const reply = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ServiceError(status.DEADLINE_EXCEEDED, `${this.options.name}: no ${awaited} from ${this.options.endpoint} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
    });
    this.sender.send([requestId, traceparent, payload]).catch((error: unknown) => this.settle(requestId, error instanceof Error ? error : new Error(String(error))));
    return reply;
  }

  /** Closes the socket; pending requests fail with UNAVAILABLE. */
  async close(): Promise<void> {
    for (const requestId of [...this.pending.keys()]) this.settle(requestId, new ServiceError(status.UNAVAILABLE, `${this.options.name}: client closed`));
    this.dealer.close();
    await this.receiving;
  }

  private settle(requestId: string, outcome: Buffer | Error): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  private async receiveReplies(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        const [requestId, code, body] = frames as Buffer[];
        if (!requestId || !code || !body) continue;
        const statusText = code.toString('latin1');
        this.settle(
          requestId.toString('latin1'),
          statusText === OK_STATUS ? body : new ServiceError(Number(statusText) as status, body.toString('utf8')),
        );
      }
    } catch (error) {
      if (!this.dealer.closed) throw error;
    }
  }
}

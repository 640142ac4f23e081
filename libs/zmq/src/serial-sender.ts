import type { Dealer, Router } from 'zeromq';

/** zeromq.js allows one send in progress per socket; this queues sends so callers can fire concurrently. */
export class SerialSender {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly socket: Dealer | Router) {}

  /** Sends a multipart message after every earlier one has been handed to ZeroMQ. */
  send(frames: (Buffer | Uint8Array | string)[]): Promise<void> {
    const sent = this.tail.then(() => this.socket.send(frames));
    this.tail = sent.catch(() => undefined);
    return sent;
  }
}

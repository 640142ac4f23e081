import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';

/** A running /metrics endpoint. */
export interface MetricsServer {
  /** The bound port (useful when 0 asked for a free one). */
  readonly port: number;
  close(): Promise<void>;
}

/** Where a service exposes its metrics. */
export interface MetricsServerOptions {
  /** Value of the `service` label on every series. */
  readonly service: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

let defaultsCollected = false;

/**
 * Serves the Prometheus text exposition of this process at `http://host:port/metrics`: Orrery's
 * series (catalogue.ts) plus Node's process metrics (CPU, memory, event-loop lag, GC), every series
 * labelled with the service name.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  register.setDefaultLabels({ service: options.service });
  if (!defaultsCollected) {
    collectDefaultMetrics();
    defaultsCollected = true;
  }
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/metrics')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    register.metrics().then(
      (body) => response.writeHead(200, { 'content-type': register.contentType }).end(body),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The current exposition text (tests, and callers without the HTTP endpoint). */
export function metricsText(): Promise<string> {
  return register.metrics();
}

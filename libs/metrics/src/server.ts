import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, register } from 'prom-client';
import { registerEventLoopLag } from './event-loop-lag';

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
  /**
   * Serve the sum of the cluster workers' series (this process is a node:cluster primary whose
   * workers called collectMetricsForClusterPrimary) instead of this process's own.
   */
  readonly aggregateClusterWorkers?: boolean;
}

let defaultsCollected = false;

function collectOwnMetrics(service: string): void {
  register.setDefaultLabels({ service });
  if (!defaultsCollected) {
    collectDefaultMetrics();
    // prom-client's nodejs_eventloop_lag_{min,…,p99}_seconds held its 10 ms sampling interval; these
    // replace them. (Its monitor keeps running unread: it cannot be left out.)
    registerEventLoopLag(register);
    defaultsCollected = true;
  }
}

/**
 * In a node:cluster worker: collects this process's series (labelled with the service name) and
 * answers the primary's requests for them, so the primary's /metrics shows the workers' sum.
 */
export function collectMetricsForClusterPrimary(service: string): void {
  collectOwnMetrics(service);
  // Constructing it registers the worker's answer to the primary's metric requests.
  new AggregatorRegistry();
}

/**
 * Serves the Prometheus text exposition of this process at `http://host:port/metrics`: Orrery's
 * series (catalogue.ts) plus Node's process metrics (CPU, memory, event-loop lag, GC), every series
 * labelled with the service name.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const aggregator = options.aggregateClusterWorkers ? new AggregatorRegistry() : undefined;
  if (!aggregator) collectOwnMetrics(options.service);
  const exposition = (): Promise<string> => (aggregator ? aggregator.clusterMetrics() : register.metrics());
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/metrics')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    exposition().then(
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

import { ingestAcks, startMetricsServer } from './index';

describe('the /metrics endpoint', () => {
  it('when scraped, it serves the Prometheus text of the process with the service label on every series', async () => {
    const server = await startMetricsServer({ service: 'unit', host: '127.0.0.1', port: 0 });
    try {
      ingestAcks.inc({ kind: 'event', outcome: 'stored' }, 3);
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toMatch(/^orrery_ingest_acks_total\{kind="event",outcome="stored",service="unit"\} 3$/m);
      expect(text).toMatch(/^process_cpu_seconds_total\{service="unit"\} /m);
      // Node's event-loop lag without the 10 ms sampling interval of prom-client's own gauges (event-loop-lag.ts), once each.
      expect(text.match(/^# HELP nodejs_eventloop_lag_p99_seconds .*$/gm)).toEqual([
        '# HELP nodejs_eventloop_lag_p99_seconds How late the event loop ran a timer: the 99th percentile (seconds; sampled every 10 ms, since the previous scrape)',
      ]);
      expect(text.match(/^nodejs_eventloop_lag_p99_seconds\{service="unit"\} /gm)).toHaveLength(1);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

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
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

import { metricsText } from '@orrery/metrics';
import { health, QueryService } from '@orrery/proto';
import { bindService, createClient, monitorDependencies, startGrpcServer, status } from './index';

const quiet = { info: () => undefined, warn: () => undefined };

async function servingStatus(port: number): Promise<string> {
  const client = createClient(health.Health, `127.0.0.1:${port}`, { timeoutMs: 1_000 });
  try {
    return health.HealthCheckResponse_ServingStatus[(await client.check({ service: '' })).status];
  } finally {
    client.close();
  }
}

async function until(probe: () => Promise<string>, expected: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  let last = '';
  while (Date.now() < deadline) {
    last = await probe();
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`expected ${expected}, last ${last}`);
}

describe('health follows dependencies; every call is counted', () => {
  it('when a dependency stops answering the server reports NOT_SERVING, SERVING again once it answers, and NOT_SERVING for good once shutdown began', async () => {
    let reachable = true;
    const server = await startGrpcServer({ address: '127.0.0.1:0', services: [] });
    const monitor = monitorDependencies(server, [{ name: 'store', probe: async () => (reachable ? 'PONG' : Promise.reject(new Error('refused'))) }], { intervalMs: 20, logger: quiet });
    await until(() => servingStatus(server.port), 'SERVING');
    reachable = false;
    await until(() => servingStatus(server.port), 'NOT_SERVING');
    expect(monitor.healthy()).toBe(false);
    reachable = true;
    await until(() => servingStatus(server.port), 'SERVING');
    expect(await metricsText()).toMatch(/^orrery_dependency_up\{dependency="store"\} 1$/m);

    // Once shutdown began, the monitor's next round (all dependencies up) must not flip it back.
    const shutdown = server.shutdown(1_000);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Calls are refused while shutting down, so read the health service's own table.
    const statusTable = (server.health as unknown as { statusMap: Map<string, string> }).statusMap;
    expect(statusTable.get('')).toBe('NOT_SERVING');
    await monitor.stop();
    await shutdown;
  });

  it('when a dependency never answers in time, the probe counts as down', async () => {
    const server = await startGrpcServer({ address: '127.0.0.1:0', services: [] });
    const monitor = monitorDependencies(server, [{ name: 'stuck', probe: () => new Promise(() => undefined) }], { intervalMs: 20, timeoutMs: 30, logger: quiet });
    try {
      await until(async () => (/^orrery_dependency_up\{dependency="stuck"\} 0$/m.test(await metricsText()) ? 'down' : 'unknown'), 'down');
      expect(await servingStatus(server.port)).toBe('NOT_SERVING');
    } finally {
      await monitor.stop();
      await server.shutdown(1_000);
    }
  });

  it('when calls are answered, requests are counted by method and status and timed', async () => {
    const server = await startGrpcServer({
      address: '127.0.0.1:0',
      services: [
        bindService(QueryService, {
          getUserContext: async (request) => ({ userId: request.userId, known: false }),
          getItems: async () => Promise.reject(new Error('broken')),
          getCoVisited: async () => ({ items: [] }),
          getTrending: async () => ({ items: [] }),
          checkSeen: async () => ({ seen: [] }),
        }),
      ],
    });
    const client = createClient(QueryService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
    await client.getUserContext({ userId: 'u' });
    await expect(client.getItems({ itemIds: ['i'] })).rejects.toMatchObject({ code: status.INTERNAL });
    const text = await metricsText();
    expect(text).toMatch(/^orrery_rpc_server_requests_total\{transport="grpc",method="orrery.v1.QueryService\/GetUserContext",code="OK"\} 1$/m);
    expect(text).toMatch(/^orrery_rpc_server_requests_total\{transport="grpc",method="orrery.v1.QueryService\/GetItems",code="INTERNAL"\} 1$/m);
    expect(text).toMatch(/^orrery_rpc_server_duration_seconds_count\{transport="grpc",method="orrery.v1.QueryService\/GetUserContext"\} 1$/m);
    expect(text).toMatch(/^orrery_rpc_client_duration_seconds_count\{transport="grpc",method="orrery.v1.QueryService\/GetItems",code="INTERNAL"\} 1$/m);
    client.close();
    await server.shutdown(1_000);
  });
});

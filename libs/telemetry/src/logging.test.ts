import { Writable } from 'node:stream';
import { createLogger } from './logging';

/** A logger writing into an array of parsed lines. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('test', 'info', destination), lines };
}

describe('log lines', () => {
  it('when a field or the message holds a URL with a password, the line keeps the URL without the password', async () => {
    const { logger, lines } = capturedLogger();
    logger.info({ redis: 'redis://:s3cret@10.0.0.5:6379', prefix: 'orrery' }, 'ready');
    logger.warn('postgres://orrery:hunter2@db:5432/orrery refused the connection');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.join('')).not.toMatch(/s3cret|hunter2/);
    const [ready, warning] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(ready).toMatchObject({ msg: 'ready', redis: 'redis://:***@10.0.0.5:6379', prefix: 'orrery', service: 'test' });
    expect(warning).toMatchObject({ msg: 'postgres://orrery:***@db:5432/orrery refused the connection' });
  });

  it('when a URL has no password, the line keeps it as it is', async () => {
    const { logger, lines } = capturedLogger();
    logger.info({ redis: 'redis://127.0.0.1:63790', postgres: 'postgres://orrery@127.0.0.1:54329/orrery' }, 'ready');
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(lines[0]!)).toMatchObject({ redis: 'redis://127.0.0.1:63790', postgres: 'postgres://orrery@127.0.0.1:54329/orrery' });
  });
});

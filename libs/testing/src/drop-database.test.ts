import { Pool } from 'pg';
import { createTestDatabase, dropTestDatabase } from './index';

jest.setTimeout(60_000);

it('when a pool was just ended, dropping its database does not terminate its closing connections with an error', async () => {
  const errors: unknown[] = [];
  for (let round = 0; round < 20; round++) {
    const url = await createTestDatabase();
    const pool = new Pool({ connectionString: url });
    // Each connection's own error event: what a pool without an error listener would leave unhandled.
    pool.on('connect', (client) => client.on('error', (error) => errors.push(error)));
    await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT pg_sleep(0.01)')));
    await pool.end();
    await dropTestDatabase(url);
  }
  expect(errors).toEqual([]);
});

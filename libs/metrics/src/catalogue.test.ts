import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'prom-client';
import { setModelInUse } from './index';

describe('the metric catalogue', () => {
  it('when the Grafana dashboard queries an orrery_ series, the catalogue defines it', () => {
    const dashboard = readFileSync(join(__dirname, '../../../infra/grafana/orrery-dashboard.json'), 'utf8');
    const queried = new Set([...dashboard.matchAll(/\b(orrery_[a-z_]+)/g)].map((match) => match[1]!.replace(/_(bucket|count|sum)$/, '')));
    expect(queried.size).toBeGreaterThan(10);
    const defined = new Set(register.getMetricsAsArray().map((metric) => metric.name));
    expect([...queried].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('when the model changes, only the new version is reported in use', async () => {
    setModelInUse('v1');
    setModelInUse('v2');
    const text = await register.getSingleMetricAsString('orrery_model_in_use');
    expect(text).toContain('orrery_model_in_use{version="v2"} 1');
    expect(text).not.toContain('version="v1"');
    setModelInUse('');
    expect(await register.getSingleMetricAsString('orrery_model_in_use')).not.toContain('version=');
  });
});

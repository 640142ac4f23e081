import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The relay's producer groups messages with @orrery/kafka's one-pass grouping only if nothing in the
// command loads kafkajs before @orrery/kafka (libs/kafka/src/message-grouping.ts). Node's module cache
// decides, which jest's registry does not use: checked in a plain node process, on the build.
it("the command's service module loads @orrery/kafka before kafkajs, so the relay's producer groups messages in one pass", () => {
  const service = JSON.stringify(join(__dirname, '..', 'dist', 'service.js'));
  const preloaded = execFileSync(process.execPath, ['-e', `require(${service}); console.log(String(require('@orrery/kafka').isMessageGroupingPreloaded()))`], { cwd: __dirname, encoding: 'utf8' }).trim();
  expect(preloaded).toBe('true');
});

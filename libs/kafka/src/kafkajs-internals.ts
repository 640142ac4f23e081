// What this library's repairs of kafkajs share: the one kafkajs version whose internals they replace,
// and the replacement of a request's entry in kafkajs' protocol tables (requests/<api>/index.js).

/** The kafkajs version whose internals the repairs of this library replace (idle-request-queue.ts, produce-encoding.ts, fetch-decoding.ts). */
export const REPAIRED_KAFKAJS_VERSION = '2.2.4';

/** Whether the kafkajs this process loads is REPAIRED_KAFKAJS_VERSION, the one whose internals the repairs of this library replace. */
export function isRepairedKafkajsVersion(): boolean {
  // kafkajs has no "exports" map, so its internal modules are the ones its clients use.
  const { version } = require('kafkajs/package.json') as { version: string };
  return version === REPAIRED_KAFKAJS_VERSION;
}

/** A kafkajs protocol table: per API version, a builder of one request (its encoder, response decoder and parser). */
export interface ProtocolTable<Args, Built> {
  protocol: (selector: { version: number }) => (args: Args) => Built;
}

/**
 * Makes kafkajs build the requests of `modulePath` (a protocol table, e.g.
 * 'kafkajs/src/protocol/requests/fetch') of the versions `repairs` accepts through `rebuild`, which
 * takes kafkajs' own request and returns the one to use. Every kafkajs client of the process asks this
 * table when it connects. Idempotent per `marker`; only kafkajs REPAIRED_KAFKAJS_VERSION is touched:
 * for another version it returns false and changes nothing.
 */
export function repairProtocol<Args, Built>(modulePath: string, marker: symbol, repairs: (version: number) => boolean, rebuild: (built: Built, args: Args) => Built): boolean {
  if (!isRepairedKafkajsVersion()) return false;
  const table = require(modulePath) as ProtocolTable<Args, Built>;
  if (marker in table.protocol) return true;
  const original = table.protocol;
  const repaired = (selector: { version: number }): ((args: Args) => Built) => {
    const build = original(selector);
    return repairs(selector.version) ? (args) => rebuild(build(args), args) : build;
  };
  table.protocol = Object.assign(repaired, { [marker]: true });
  return true;
}

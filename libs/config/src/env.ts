/** A configuration problem found at start-up; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The variable's value, or `fallback` when unset or empty. */
export function readString(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

/**
 * A name variable (`readString`) that `problem` accepts (it returns undefined), or a ConfigError naming
 * the variable and what is wrong with the value.
 */
export function readName(env: Env, name: string, fallback: string, problem: (value: string) => string | undefined): string {
  const value = readString(env, name, fallback);
  const wrong = problem(value);
  if (wrong) throw new ConfigError(`${name}=${value} ${wrong}`);
  return value;
}

/** An integer variable within [min, max]; throws a ConfigError naming the variable otherwise. */
export function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is not an integer between ${min} and ${max}`);
  }
  return value;
}

/** A number variable within [min, max]; throws a ConfigError naming the variable otherwise. */
export function readNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is not a number between ${min} and ${max}`);
  }
  return value;
}

/** A host:port variable (port 0–65535; 0 lets a server pick one). */
export function readAddress(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  const port = portOf(value);
  if (port === undefined || port > 65_535) {
    throw new ConfigError(`${name}=${value} is not host:port (a port from 0 to 65535)`);
  }
  return value;
}

/**
 * A comma-separated list of host:port (port 1–65535), at least one. kafkajs takes a broker without a
 * port or an empty list at start and fails only when it connects, without naming the variable.
 */
export function readHostPortList(env: Env, name: string, fallback: string): string[] {
  const raw = readString(env, name, fallback);
  const entries = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.find((entry) => {
    const port = portOf(entry);
    return port === undefined || port < 1 || port > 65_535;
  });
  if (entries.length === 0 || bad !== undefined) {
    throw new ConfigError(`${name}=${raw} is not a comma-separated list of host:port${bad === undefined ? '' : ` ("${bad}" is not)`}`);
  }
  return entries;
}

/**
 * A ZeroMQ endpoint variable such as tcp://127.0.0.1:5555 or ipc:///tmp/x. A tcp endpoint needs a
 * port from 1 to 65535: ZeroMQ refuses one without a port only with "Invalid argument", and takes
 * a port past 65535 modulo 65536 (tcp://127.0.0.1:99999 binds 34463).
 */
export function readZmqEndpoint(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  const tcp = /^tcp:\/\/(.+)$/.exec(value);
  // tcp://*:port binds every interface (ZeroMQ's own notation), as a server's endpoint may.
  const port = tcp ? portOf(tcp[1]!.replace(/^\*:/, '0.0.0.0:')) : undefined;
  const valid = tcp ? port !== undefined && port >= 1 && port <= 65_535 : /^(ipc|inproc):\/\/\S+$/.test(value);
  if (!valid) {
    throw new ConfigError(`${name}=${value} is not a ZeroMQ endpoint (tcp://host:port with a port from 1 to 65535, ipc://path)`);
  }
  return value;
}

/** The port of `host:port` or `[v6]:port` (an integer, maybe out of range), or undefined when it is not of that form. */
function portOf(hostPort: string): number | undefined {
  const match = /^(?:[^\s:[\]]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(hostPort);
  return match ? Number(match[1]) : undefined;
}

/** A URL variable with one of the given protocols. */
export function readUrl(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const value = readString(env, name, fallback);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}=${withoutPasswords(value)} is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name}=${withoutPasswords(value)} must use ${protocols.join(' or ')}`);
  }
  return value;
}

const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@/]+@/gi;

/** `text` with the password of every URL in it (`scheme://user:password@host`) replaced by `***`: for logs and error messages. */
export function withoutPasswords(text: string): string {
  return text.includes('@') ? text.replace(URL_PASSWORD, '$1***@') : text;
}

/** A boolean variable: true/false/1/0/on/off/yes/no. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['true', '1', 'on', 'yes'].includes(raw)) return true;
  if (['false', '0', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}=${raw} is not a boolean (true/false)`);
}

/** A variable that takes one of `choices` (compared in lower case); throws a ConfigError naming the variable and the choices otherwise. */
export function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  const choice = choices.find((candidate) => candidate === raw);
  if (choice === undefined) throw new ConfigError(`${name}=${raw} is not one of ${choices.join(', ')}`);
  return choice;
}

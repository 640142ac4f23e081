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

/** A host:port variable. */
export function readAddress(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!/^[^\s:]+:\d{1,5}$/.test(value) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(value)) {
    throw new ConfigError(`${name}=${value} is not host:port`);
  }
  return value;
}

/** A ZeroMQ endpoint variable such as tcp://127.0.0.1:5555 or ipc:///tmp/x. */
export function readZmqEndpoint(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!/^(tcp|ipc|inproc):\/\/\S+$/.test(value)) {
    throw new ConfigError(`${name}=${value} is not a ZeroMQ endpoint (tcp://host:port, ipc://path)`);
  }
  return value;
}

/** A URL variable with one of the given protocols. */
export function readUrl(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const value = readString(env, name, fallback);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}=${value} is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name}=${value} must use ${protocols.join(' or ')}`);
  }
  return value;
}

/** A boolean variable: true/false/1/0/on/off/yes/no. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['true', '1', 'on', 'yes'].includes(raw)) return true;
  if (['false', '0', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}=${raw} is not a boolean (true/false)`);
}

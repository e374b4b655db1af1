/**
 * aws-sdk-client-mock's `mockClient`, kept to the suite that made the mock when several suites share one jest
 * module registry (test/helpers/suites.ts).
 *
 * A mock of a client class replaces `send` on the class's prototype, and a second `mockClient` of the same class
 * replaces the first. Suites make their mocks while jest collects them, before any test runs; in a file of its own
 * that is harmless, but in a group the last suite collected would own every class's `send`, and the first suites'
 * stubs would be dead. So each mock is recorded against the suite being collected, taken off again once that suite
 * is collected, put back (the same stub: its behaviours and calls kept) when its tests start, and taken off when they
 * end. Outside a group `mockClient` behaves exactly as aws-sdk-client-mock's.
 */
import { mockClient as attach } from 'aws-sdk-client-mock';

/** Any client's stub: only its `send` and the client it is attached to are used here. */
type Stub = { send: unknown };

/** What a stub is attached to: the client instance, or the prototype of the client class. */
function targetOf(stub: Stub): object {
  return (stub as unknown as { client: object }).client;
}

/** The mocks of the suite being collected, while suites.ts collects one; then those of the suite whose tests run. */
let collecting: Stub[] | undefined;
let running: Stub[] | undefined;

export const mockClient: typeof attach = (client, options) => {
  const stub = attach(client, options);
  (collecting ?? running)?.push(stub as Stub);
  return stub;
};

/** Puts `stub` (its current sinon stub: `reset()` replaces it) back as its client's `send`. */
function install(stub: Stub): void {
  Object.defineProperty(targetOf(stub), 'send', { value: stub.send, writable: true, configurable: true });
}

/** Takes `stub` off its client: the client's own `send` again. */
function uninstall(stub: Stub): void {
  const target = targetOf(stub) as { send?: unknown };
  if (Object.prototype.hasOwnProperty.call(target, 'send') && (target.send as { restore?: unknown }).restore) delete target.send;
}

/**
 * Runs `collect` (a suite's collection), recording the mocks it makes; they are taken off before it returns, and are
 * put back by `activate` and taken off by `deactivate` (in the order they were made, so that the last mock of a class
 * wins, as in a file of its own).
 */
export function collectMocks(collect: () => void): { activate(): void; deactivate(): void } {
  const stubs: Stub[] = [];
  const outer = collecting;
  collecting = stubs;
  try {
    collect();
  } finally {
    collecting = outer;
    for (const stub of [...stubs].reverse()) uninstall(stub);
  }
  const made = stubs.length;
  return {
    activate: () => {
      stubs.forEach(install);
      running = stubs;
    },
    // With the mocks its tests and hooks made.
    deactivate: () => {
      running = undefined;
      [...stubs].reverse().forEach(uninstall);
      stubs.length = made;
    },
  };
}

import { createRequire } from 'node:module';

/**
 * Loads a package only when it is first needed, synchronously, from either build: the CommonJS build (and jest)
 * has `require`; the ES module build makes one for the working directory (Lambda runs a function from
 * /var/task, and its NODE_PATH holds the runtime's AWS SDK). A bundler never sees the name, so it never bundles
 * the SDK into a user's function.
 */
export function requireOptional<T>(packageName: string): T {
  const load = typeof require === 'function' ? require : createRequire(`${process.cwd()}/`);
  return load(packageName) as T;
}

/**
 * Loads an AWS SDK v3 client package only when it is first needed. The Lambda Node.js runtime ships the SDK,
 * so the runtime helpers declare the clients as optional peer dependencies: importing
 * `cdk-rollout-guardrails-runtime` never fails for want of a client the caller does not use.
 */
export function loadSdk<T>(packageName: string, neededBy: string): T {
  try {
    return requireOptional<T>(packageName);
  } catch (cause) {
    throw new Error(`${neededBy} needs ${packageName}, which is not installed: add it to your dependencies (the Lambda Node.js runtime already includes it)`, { cause });
  }
}

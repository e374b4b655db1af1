/**
 * Loads an AWS SDK v3 client package only when it is first needed. The Lambda Node.js runtime ships the SDK,
 * so the runtime helpers declare the clients as optional peer dependencies: importing
 * `cdk-rollout-guardrails/runtime` never fails for want of a client the caller does not use.
 */
export function loadSdk<T>(packageName: string, neededBy: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(packageName) as T;
  } catch (cause) {
    throw new Error(`${neededBy} needs ${packageName}, which is not installed: add it to your dependencies (the Lambda Node.js runtime already includes it)`, { cause });
  }
}

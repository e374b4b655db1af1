import { Annotations, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RELEASE_ID_ENV } from 'cdk-rollout-guardrails-runtime/contract';

/**
 * Lambda's limit on a function's environment variables: 4 KB for all of them, in aggregate
 * (docs/aws-behaviour.md LAMBDA-13). How Lambda counts is not documented beyond that; this counts the bytes of
 * every name and value in UTF-8, and 4 KB as 4,096 of them.
 */
export const ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * What a reference (`Ref`, `Fn::GetAtt`, an import) is taken to add to a value once deployed: a generated
 * physical name or an ARN is rarely shorter. The size with references at this length is the estimate a warning
 * is given on; with references at 0 bytes, the floor an error is given on.
 */
export const REFERENCE_ESTIMATE_BYTES = 64;

/** Id of the warning on a function whose environment may exceed Lambda's 4 KB. */
export const ENVIRONMENT_SIZE_WARNING = 'cdk-rollout-guardrails:environmentSize';

/** A function's environment variables, measured. */
export interface EnvironmentSize {
  /** Bytes of the names and the literal parts of the values: the least the environment can be. */
  readonly floorBytes: number;
  /** References in the values, whose length is known only at deploy. */
  readonly references: number;
  /** Each variable's floor in bytes, largest first. */
  readonly variables: ReadonlyArray<readonly [string, number]>;
}

/** Measures a function's environment variables as synthesised, or undefined when it has none. */
export function environmentSize(fn: lambda.CfnFunction): EnvironmentSize | undefined {
  const environment = Stack.of(fn).resolve(fn.environment) as { variables?: Record<string, unknown> } | undefined;
  const variables = environment?.variables;
  if (typeof variables !== 'object' || variables === null) return undefined;
  let references = 0;
  const measure = (value: unknown): number => {
    if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
    if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
    if (Array.isArray(value)) return value.reduce((sum: number, part) => sum + measure(part), 0);
    if (typeof value !== 'object' || value === null) return 0;
    const join = (value as Record<string, unknown>)['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) {
      const parts = join[1] as unknown[];
      return parts.reduce((sum: number, part) => sum + measure(part), 0) + Math.max(0, parts.length - 1) * measure(join[0]);
    }
    references++;
    return 0;
  };
  const sizes = Object.entries(variables).map(([name, value]): [string, number] => [name, Buffer.byteLength(name, 'utf8') + measure(value)]);
  return { floorBytes: sizes.reduce((sum, [, bytes]) => sum + bytes, 0), references, variables: sizes.sort((a, b) => b[1] - a[1]) };
}

/**
 * Checks the environment of a function the library writes variables into (the released function's release
 * identity, and the configuration the library's own functions carry): an error when even its literal bytes
 * exceed Lambda's 4 KB (CloudFormation would fail to create or update the function), a warning when they may
 * once its references are deployed.
 */
export function environmentSizeProblems(fn: lambda.CfnFunction): string[] {
  const size = environmentSize(fn);
  if (!size || !size.variables.some(([name]) => name === RELEASE_ID_ENV || name.startsWith('GUARDRAILS_'))) return [];
  const path = fn.node.scope?.node.path ?? fn.node.path;
  const largest = size.variables.slice(0, 3).map(([name, bytes]) => `${name} ${bytes.toLocaleString('en-US')}`).join(', ');
  if (size.floorBytes > ENVIRONMENT_LIMIT_BYTES) {
    return [`the function '${path}' has environment variables of at least ${size.floorBytes.toLocaleString('en-US')} bytes `
      + `(names and values, without the ${size.references} reference(s) resolved at deploy); Lambda allows 4 KB (${ENVIRONMENT_LIMIT_BYTES.toLocaleString('en-US')} bytes) `
      + `for all of them, so CloudFormation would fail to deploy it. The largest, in bytes: ${largest}`];
  }
  const estimate = size.floorBytes + size.references * REFERENCE_ESTIMATE_BYTES;
  if (estimate > ENVIRONMENT_LIMIT_BYTES) {
    Annotations.of(fn).addWarningV2(ENVIRONMENT_SIZE_WARNING,
      `the function '${path}' has environment variables of about ${estimate.toLocaleString('en-US')} bytes once deployed (${size.floorBytes.toLocaleString('en-US')} known, `
      + `and ${size.references} reference(s) at about ${REFERENCE_ESTIMATE_BYTES} bytes each); Lambda allows 4 KB (${ENVIRONMENT_LIMIT_BYTES.toLocaleString('en-US')} bytes) for all of them. `
      + `The largest, in bytes: ${largest}`);
  }
  return [];
}

/** What the control-version custom resource is asked to resolve. */
export interface ControlVersionRequest {
  /** The function's name. */
  readonly FunctionName: string;
  /** The alias users' traffic goes through. */
  readonly AliasName: string;
  /** The version this deployment publishes (the canary). */
  readonly TargetVersion: string;
}

/** The alias as Lambda's GetAlias reports it; undefined when the alias does not exist yet. */
export interface AliasState {
  readonly FunctionVersion?: string;
}

/**
 * The version that serves as control during the rollout to `target`: the version the alias points at
 * before CloudFormation updates it. On the first deployment there is no alias and nothing to compare
 * against (CodeDeploy does not shift traffic when an alias is created), so the target is its own control.
 */
export function controlVersionFor(alias: AliasState | undefined, target: string): string {
  const current = alias?.FunctionVersion;
  if (!current || current === '$LATEST') return target;
  return current;
}

/** Checks the resource properties CloudFormation passed, naming the first one missing. */
export function parseRequest(props: Record<string, unknown> | undefined): ControlVersionRequest {
  const request: Record<string, string> = {};
  for (const key of ['FunctionName', 'AliasName', 'TargetVersion']) {
    const value = props?.[key];
    if (typeof value !== 'string' || value.length === 0) {
      throw new Error(`control-version: the resource property ${key} must be a non-empty string, got: ${JSON.stringify(value)}`);
    }
    request[key] = value;
  }
  return request as unknown as ControlVersionRequest;
}

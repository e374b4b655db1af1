/** One alias whose control version the custom resource resolves. */
export interface AliasEntry {
  /** The attribute name the answer is returned under (`Fn::GetAtt <resource>.<Key>`). */
  readonly Key: string;
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
 * CloudFormation refuses a custom resource response over 4,096 bytes; the keys and versions of every alias
 * of a stack must fit in it with the envelope.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */
export const MAX_RESPONSE_BYTES = 4096;

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

/** Checks the resource properties CloudFormation passed, naming the entry and field at fault. */
export function parseEntries(props: Record<string, unknown> | undefined): AliasEntry[] {
  const aliases = props?.Aliases;
  if (!Array.isArray(aliases)) {
    throw new Error(`control-version: the resource property Aliases must be a list, got: ${JSON.stringify(aliases)}`);
  }
  const keys = new Set<string>();
  return aliases.map((entry, i) => {
    const checked: Record<string, string> = {};
    for (const field of ['Key', 'FunctionName', 'AliasName', 'TargetVersion']) {
      const value = (entry as Record<string, unknown> | null)?.[field];
      if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`control-version: Aliases[${i}].${field} must be a non-empty string, got: ${JSON.stringify(value)}`);
      }
      checked[field] = value;
    }
    if (keys.has(checked.Key)) throw new Error(`control-version: Aliases[${i}].Key repeats ${JSON.stringify(checked.Key)}`);
    keys.add(checked.Key);
    return checked as unknown as AliasEntry;
  });
}

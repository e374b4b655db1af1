/** The Lambda resource of a deployment's AppSpec: which function, which alias, from which version to which. */
export interface LambdaAppSpecTarget {
  /** The function's name (or ARN, as the AppSpec gives it). */
  readonly functionName: string;
  /** The alias whose traffic moves. */
  readonly alias: string;
  /** The version the alias served before the deployment: the control. */
  readonly currentVersion: string;
  /** The version the deployment shifts traffic to: the one under test. */
  readonly targetVersion: string;
}

/** The AppSpec of a deployment has no usable Lambda resource. */
export class AppSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppSpecError';
  }
}

/**
 * Reads the Lambda resource from a deployment's AppSpec content. For a Lambda deployment the revision is the
 * AppSpec itself, a JSON or YAML string (see `appSpecOf` in hook.ts for where it is read), shaped like
 *
 * ```yaml
 * resources:
 *   - myFunction:
 *       type: AWS::Lambda::Function
 *       properties: { name: fn, alias: live, currentversion: "3", targetversion: "4" }
 * ```
 *
 * AWS documents the keys in lower case; CloudFormation writes them capitalised (`Resources`, `Properties`,
 * `CurrentVersion`), so keys are matched without regard to case. JSON is parsed; YAML is read line by line
 * for the four properties (the flat `key: value` lines of a one-function AppSpec), which is all the probe
 * needs and spares the bundle a YAML parser. An AppSpec with more than one function resource is rejected:
 * the probe would not know which one to test.
 * @see https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html
 */
export function parseLambdaAppSpec(content: string): LambdaAppSpecTarget {
  if (typeof content !== 'string' || content.trim() === '') throw new AppSpecError('the deployment has no AppSpec content');
  const trimmed = content.trim();
  const props = trimmed.startsWith('{') ? fromJson(trimmed) : fromYaml(trimmed);
  const missing = ['name', 'alias', 'currentversion', 'targetversion'].filter((k) => props[k] === undefined || props[k] === '');
  if (missing.length > 0) throw new AppSpecError(`the AppSpec's Lambda resource lacks ${missing.join(', ')}`);
  return {
    functionName: props.name!,
    alias: props.alias!,
    currentVersion: props.currentversion!,
    targetVersion: props.targetversion!,
  };
}

function lowerKeys(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}

function fromJson(text: string): Record<string, string | undefined> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (cause) {
    throw new AppSpecError(`the AppSpec content is not valid JSON: ${(cause as Error).message}`);
  }
  const resources = lowerKeys(document).resources;
  const entries = (Array.isArray(resources) ? resources : [resources]).flatMap((r) => Object.values(lowerKeys(r)));
  const functions = entries.map(lowerKeys).filter((r) => r.type === 'AWS::Lambda::Function');
  if (functions.length !== 1) throw new AppSpecError(`expected one AWS::Lambda::Function resource in the AppSpec, found ${functions.length}`);
  const props = lowerKeys(functions[0].properties);
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v === undefined || v === null ? undefined : String(v)]));
}

function fromYaml(text: string): Record<string, string | undefined> {
  const found: Record<string, string | undefined> = {};
  let functions = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '');
    const type = /^\s*(?:-\s*)?type\s*:\s*["']?AWS::Lambda::Function["']?\s*$/i.exec(line);
    if (type) functions++;
    const m = /^\s*(?:-\s*)?(name|alias|currentversion|targetversion)\s*:\s*(.*?)\s*$/i.exec(line);
    if (m) found[m[1].toLowerCase()] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  if (functions !== 1) throw new AppSpecError(`expected one AWS::Lambda::Function resource in the AppSpec, found ${functions}`);
  return found;
}

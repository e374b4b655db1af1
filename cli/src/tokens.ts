// Resolves the CloudFormation intrinsics a synthesized template carries into readable strings, so that the
// configuration the constructs wrote into a state machine's definition (a Fn::Join with Refs and GetAtts in it)
// can be read offline. A Ref reads as the logical ID it names, a GetAtt as `<logical ID>.<attribute>`, a pseudo
// parameter as a dummy value: nothing is looked up in AWS, and nothing here pretends to know a deployed name.

/** Dummy values of the pseudo parameters: the rehearsal runs in no account. */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'rehearsal-region',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'rehearsal-stack',
  'AWS::StackId': 'rehearsal-stack-id',
  'AWS::NoValue': '',
};

/** The readable form of a Ref to a resource or parameter. */
export function refName(logicalId: string): string {
  return PSEUDO[logicalId] ?? logicalId;
}

/**
 * The string an intrinsic (or a plain value) stands for: Fn::Join and Fn::Sub are joined, Ref and Fn::GetAtt read
 * as names, anything else as `<unresolved Fn::X>`.
 */
export function resolveString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '<unresolved>';
  const [key] = Object.keys(value);
  const arg = (value as Record<string, unknown>)[key];
  switch (key) {
    case 'Ref':
      return refName(String(arg));
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
      return `${id}.${attribute}`;
    }
    case 'Fn::Join': {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map(resolveString).join(separator);
    }
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => (vars[name] !== undefined ? resolveString(vars[name])
        : name.includes('.') ? name : refName(name)));
    }
    default:
      return `<unresolved ${key}>`;
  }
}

/** The logical ID a `<logical ID>.<attribute>` or plain logical ID names. */
export function logicalIdOf(resolved: string | undefined): string | undefined {
  return resolved === undefined ? undefined : resolved.split('.')[0];
}

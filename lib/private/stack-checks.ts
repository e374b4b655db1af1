import { Annotations, CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct, IValidation } from 'constructs';
import { environmentSizeProblems } from './environment-size';
import { COHORT_CANARY_ID } from './sticky-cohorts';

export { ENVIRONMENT_SIZE_WARNING } from './environment-size';

/** A GuardedAlias as the bypass check names it. */
export interface GuardingAlias extends IConstruct {
  readonly alias: lambda.Alias;
}

/** Id of the warning on an API, function URL or event source mapping that calls a guarded function unqualified. */
export const API_BYPASSES_ALIAS_WARNING = 'cdk-rollout-guardrails:apiBypassesAlias';

/**
 * The checks of a stack's guarded functions that need the whole stack, made in one walk of its constructs when the
 * stack is validated at synth (one per stack, added by its first GuardedAlias):
 * - **Bypass.** Warns about each REST method integration (`AWS::ApiGateway::Method`), HTTP API integration
 *   (`AWS::ApiGatewayV2::Integration`), function URL (`AWS::Lambda::Url`) and event source mapping
 *   (`AWS::Lambda::EventSourceMapping`) of the stack that calls a guarded function by its unqualified ARN or name:
 *   that traffic runs $LATEST, so no rollout gates it and no rollback protects it. It reads the L1 properties
 *   (overrides are not seen) and only references that resolve in this stack (an API in another stack reaches the
 *   function through an import).
 * - **Alias names.** An error for each alias made without a GuardedAlias (`fn.addAlias`, `new lambda.Alias`) that
 *   takes a guarded alias's name on its function: Lambda allows one alias of a name per function.
 * - **Environment size.** For each function of the stack that the library writes variables into (RELEASE_ID, the
 *   `GUARDRAILS_*` configuration of its own functions, some of which grow with the aliases), an error when its
 *   environment exceeds Lambda's 4 KB, a warning when it may once deployed (`environmentSizeProblems`).
 */
export class GuardedStackChecks implements IValidation {
  public static of(stack: Stack): GuardedStackChecks {
    let check = BYPASS_CHECKS.get(stack);
    if (!check) {
      check = new GuardedStackChecks(stack);
      BYPASS_CHECKS.set(stack, check);
      stack.node.addValidation(check);
    }
    return check;
  }

  private readonly guarded = new Map<lambda.Function, GuardingAlias>();
  private readonly named: Array<{ readonly fn: lambda.Function; readonly owner: GuardingAlias; readonly aliasName: string }> = [];

  /** Checks calls of `fn` that bypass `owner`'s alias and, for a name known at synth, other aliases named `aliasName` on `fn`. */
  public guard(fn: lambda.Function, owner: GuardingAlias, aliasName: string): void {
    if (!this.guarded.has(fn)) this.guarded.set(fn, owner);
    if (!Token.isUnresolved(aliasName)) this.named.push({ fn, owner, aliasName });
  }

  private constructor(private readonly stack: Stack) {}

  public validate(): string[] {
    const aliases = new Map<lambda.IFunction, lambda.Alias[]>();
    const errors: string[] = [];
    for (const node of this.stack.node.findAll()) {
      if (node instanceof lambda.Alias) aliases.set(node.version.lambda, [...aliases.get(node.version.lambda) ?? [], node]);
      else if (node instanceof lambda.CfnFunction) errors.push(...environmentSizeProblems(node));
      else if (node instanceof CfnResource) this.checkBypass(node);
    }
    const reported = new Set<lambda.Alias>();
    for (const { fn, owner, aliasName } of this.named) {
      for (const other of aliases.get(fn) ?? []) {
        if (other === owner.alias || other.aliasName !== aliasName) continue;
        reported.add(other).add(owner.alias);
        errors.push(`GuardedAlias '${owner.node.path}': aliasName must be a name not already used on function '${fn.node.path}' (the alias '${other.node.path}' is also named "${aliasName}"; `
          + `Lambda allows one alias of a name per function, so CloudFormation would fail at deploy), got: "${aliasName}"`);
      }
    }
    // Any other two aliases of one name on a guarded function: the sticky cohorts' `<alias>-canary` and one of the user's.
    for (const fn of this.guarded.keys()) {
      const byName = new Map<string, lambda.Alias[]>();
      for (const alias of aliases.get(fn) ?? []) {
        if (!Token.isUnresolved(alias.aliasName) && !reported.has(alias)) byName.set(alias.aliasName, [...byName.get(alias.aliasName) ?? [], alias]);
      }
      for (const [name, same] of byName) {
        if (same.length < 2) continue;
        const canary = same.find((a) => a.node.id === COHORT_CANARY_ID);
        errors.push(`function '${fn.node.path}' has ${same.length} aliases named "${name}" (${same.map((a) => `'${a.node.path}'`).join(', ')}): Lambda allows one alias of a name per function, `
          + `so CloudFormation would fail at deploy${canary ? `. '${canary.node.path}' is the canary alias a staged rollout with sticky cohorts names "<alias>-canary": rename the other alias` : ''}`);
      }
    }
    return errors;
  }

  private checkBypass(node: CfnResource): void {
    let target: unknown;
    let what: string;
    if (node instanceof apigw.CfnMethod) {
      const integration = Stack.of(node).resolve(node.integration);
      target = integration?.uri ?? integration?.Uri;
      what = 'REST API method integration';
    } else if (node instanceof apigwv2.CfnIntegration) {
      target = Stack.of(node).resolve(node.integrationUri);
      what = 'HTTP API integration';
    } else if (node instanceof lambda.CfnUrl) {
      if (node.qualifier !== undefined) return;
      target = Stack.of(node).resolve(node.targetFunctionArn);
      what = 'function URL';
    } else if (node instanceof lambda.CfnEventSourceMapping) {
      target = Stack.of(node).resolve(node.functionName);
      what = 'event source mapping';
    } else {
      return;
    }
    if (target === undefined) return;
    for (const [fn, owner] of this.guarded) {
      if (Stack.of(fn) !== Stack.of(node)) continue;
      const logicalId = Stack.of(fn).resolve((fn.node.defaultChild as lambda.CfnFunction).logicalId);
      if (!callsUnqualified(target, logicalId)) continue;
      const ownerAlias = `the alias '${Stack.of(owner).resolve(owner.alias.aliasName)}' of GuardedAlias '${owner.node.path}'`;
      const fix = what === 'REST API method integration' ? 'new apigateway.LambdaIntegration(guarded.alias)'
        : what === 'HTTP API integration' ? 'new HttpLambdaIntegration(id, guarded.alias)'
          : what === 'function URL' ? 'guarded.alias.addFunctionUrl()' : 'guarded.alias.addEventSource()';
      Annotations.of(node).addWarningV2(API_BYPASSES_ALIAS_WARNING,
        `this ${what} calls the function '${fn.node.path}' itself (its unqualified ARN, i.e. $LATEST), not ${ownerAlias}: `
        + `its traffic bypasses the rollout (no gate, no rollback; a new version reaches it the moment it is deployed). Target the alias instead: ${fix}.`);
    }
  }
}

const BYPASS_CHECKS = new WeakMap<Stack, GuardedStackChecks>();

/**
 * Whether a resolved CloudFormation value is the function's ARN or name (`Fn::GetAtt [id, Arn]`, `Ref id`)
 * without a qualifier: alone, or inside an `Fn::Join` whose next part does not start with ":" (a
 * `:alias` or `:version` suffix).
 */
function callsUnqualified(value: unknown, logicalId: string): boolean {
  const isFunctionRef = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    const getAtt = o['Fn::GetAtt'];
    return o.Ref === logicalId || (Array.isArray(getAtt) && getAtt[0] === logicalId && getAtt[1] === 'Arn');
  };
  if (isFunctionRef(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const join = (value as Record<string, unknown>)['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    const parts = join[1] as unknown[];
    const delimiter = typeof join[0] === 'string' ? join[0] : '';
    return parts.some((part, i) => {
      if (!isFunctionRef(part)) return callsUnqualified(part, logicalId);
      const next = i + 1 < parts.length ? `${delimiter}${typeof parts[i + 1] === 'string' ? parts[i + 1] : ''}` : '';
      return !next.startsWith(':');
    });
  }
  return Object.values(value as Record<string, unknown>).some((v) => callsUnqualified(v, logicalId));
}

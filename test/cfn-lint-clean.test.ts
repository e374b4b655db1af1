import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DemoStack } from '../bin/demo-stack';
import { dropRedundantRoleDependency } from '../lib/private/lint';

process.env.CDK_VALIDATION = 'false';

type Resources = Record<string, { Type: string; DependsOn?: string[]; Properties?: unknown; Metadata?: any }>;

/** Logical ids a value references with Ref or Fn::GetAtt. */
function referenced(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => referenced(v, into));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') into.add(o.Ref);
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') into.add(getAtt[0]);
    Object.values(o).forEach((v) => referenced(v, into));
  }
  return into;
}

/** cfn-lint's W3005: a DependsOn entry the resource also references in its properties. */
function redundantDependsOn(resources: Resources): string[] {
  return Object.entries(resources).flatMap(([id, r]) => {
    const refs = referenced(r.Properties);
    const ignored = r.Metadata?.['cfn-lint']?.config?.ignore_checks?.includes('W3005');
    return ignored ? [] : (r.DependsOn ?? []).filter((d) => refs.has(d)).map((d) => `${id} depends on ${d}, which it already references`);
  });
}

describe('cfn-lint with its default rules finds nothing on the library\'s resources (no ignore file)', () => {
  test('the example app: no resource repeats in DependsOn what it references, except the demo\'s own functions, which say why', () => {
    const app = new App();
    const stack = new DemoStack(app, 'Demo', { env: { account: '111111111111', region: 'eu-west-1' } });
    const resources = app.synth().getStackByName(stack.stackName).template.Resources as Resources;
    expect(redundantDependsOn(resources)).toEqual([]);
    // The library's functions and state machine still wait for their role's policy.
    const starter = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('StagedRolloutStarter'))!;
    expect(starter[1].DependsOn).toEqual([expect.stringMatching(/^StagedRolloutStarterServiceRoleDefaultPolicy/)]);
    const machine = Object.entries(resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')!;
    expect(machine[1].DependsOn).toEqual([expect.stringMatching(/^StagedRolloutStateMachineRoleDefaultPolicy/)]);
    // The demo's own functions keep aws-cdk-lib's DependsOn and carry cfn-lint's per-resource ignore instead.
    const answer = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('AnswerFunction'))!;
    expect(answer[1].Metadata['cfn-lint']).toEqual({ config: { ignore_checks: ['W3005'] } });
    expect(answer[1].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^AnswerFunctionServiceRole[0-9A-F]{8}$/)]));
  });

  test('dropRedundantRoleDependency drops only the role: the policy and any dependency added later stay, in aws-cdk-lib\'s order', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    dropRedundantRoleDependency(fn);
    const later = new iam.Role(stack, 'Later', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    fn.node.addDependency(later);
    const resources = app.synth().getStackByName('S').template.Resources as Resources;
    const id = stack.getLogicalId(fn.node.defaultChild as CfnResource);
    expect(resources[id].DependsOn).toEqual([expect.stringMatching(/^FnServiceRoleDefaultPolicy/), expect.stringMatching(/^Later/)]);
    expect(redundantDependsOn(resources)).toEqual([]);
  });

  test('without it, aws-cdk-lib\'s function repeats its role (what cfn-lint flags), so the check above can fail', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') })
      .addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    const resources = app.synth().getStackByName('S').template.Resources as Resources;
    expect(redundantDependsOn(resources)).toEqual([expect.stringMatching(/^Fn[0-9A-F]{8} depends on FnServiceRole[0-9A-F]{8}, which it already references$/)]);
  });
});

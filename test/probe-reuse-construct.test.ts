// DeltaSProbe reuseCurrentAnswers at synth: off by default (no table, the code asset as it was), on it adds the
// answer table with its TTL and the probe's batched item reads and puts on that table only; a bad value is refused.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeltaSProbe, DeltaSProbeProps, GoldSet } from '../lib';
import { PROBE_ANSWERS_TABLE_ENV } from '../packages/runtime/src/contract/probe';
import { allowSynthWarningsInEachTest } from './helpers/console';
import { RelevantControlTowerRules } from './helpers/guard-plugin';
import { FEATURE_FLAGS, testApp, testStack } from './util';

const item = (id: string) => JSON.stringify({ id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.` });
const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));
allowSynthWarningsInEachTest(['cdk-rollout-guardrails:smallGoldSet']);

function synth(props: Partial<DeltaSProbeProps> = {}) {
  const app = testApp();
  const stack = testStack(app);
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD, ...props });
  return { app, stack, probe, template: Template.fromStack(stack) };
}

/** Every statement of the probe function's role that names a DynamoDB action. */
function dynamoStatements(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
}

describe('DeltaSProbe reuseCurrentAnswers', () => {
  test('off by default: no table, no DynamoDB grant, no table variable, and the configuration written as before', () => {
    const { probe, template } = synth();
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(dynamoStatements(template)).toEqual([]);
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain(PROBE_ANSWERS_TABLE_ENV);
    expect(probe.answerTable).toBeUndefined();
    expect(probe._runtimeConfig).not.toHaveProperty('reuseCurrentAnswers');
    expect(synth({ reuseCurrentAnswers: false }).probe._runtimeConfig).not.toHaveProperty('reuseCurrentAnswers');
  });

  test('on: an on-demand table keyed by id with TTL on expiresAt, on DynamoDB\'s AWS owned key, deleted with the stack', () => {
    const { stack, probe, template } = synth({ reuseCurrentAnswers: true });
    expect(probe.config.reuseCurrentAnswers).toBe(true);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        // SSEEnabled false is how CloudFormation spells "encrypted with the AWS owned key" (register DDB-2).
        SSESpecification: { SSEEnabled: false },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
        DeletionProtectionEnabled: Match.absent(),
      },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [PROBE_ANSWERS_TABLE_ENV]: { Ref: stack.getLogicalId(probe.answerTable!.node.defaultChild as any) } } },
    });
  });

  test('on: the probe may BatchGetItem and BatchWriteItem on its table and nothing else of DynamoDB', () => {
    const { stack, probe, template } = synth({ reuseCurrentAnswers: true });
    const tableId = stack.getLogicalId(probe.answerTable!.node.defaultChild as any);
    expect(dynamoStatements(template)).toEqual([{
      Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
    }]);
  });

  test('on: cdk-nag finds nothing unacknowledged; point-in-time recovery is acknowledged with its reason', () => {
    const app = testApp();
    new DeltaSProbe(testStack(app), 'Probe', { goldSet: GOLD, reuseCurrentAnswers: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
    expect(nag.suppressedViolations.map((v: any) => `${v.ruleName} at ${v.acknowledgedAt}`)).toContain('AwsSolutions-DDB3 at TestStack/Probe/AnswerTable');
  });

  test.each([['yes'], [1], [null]])('refuses reuseCurrentAnswers %p at synth, naming the prop and the value', (value) => {
    expect(() => synth({ reuseCurrentAnswers: value as any })).toThrow(
      `reuseCurrentAnswers must be a boolean (true only for a function that answers the same request and seed the same way), got: ${JSON.stringify(value)}`);
  });
});

describe('the answer table under AWS Control Tower\'s proactive controls (cfn-guard)', () => {
  test('leaves no open finding: point-in-time recovery and the AWS owned key are acknowledged with their reasons', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-reuse-guard-'));
    try {
      const app = new App({ context: { ...FEATURE_FLAGS, '@aws-cdk/core:failSynthOnValidationErrors': false }, outdir });
      Validations.of(app).addPlugins(new RelevantControlTowerRules());
      new DeltaSProbe(testStack(app), 'Probe', { goldSet: GOLD, reuseCurrentAnswers: true });
      app.synth();
      const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
      const guard = report.pluginReports.find((r: any) => /cfnguard/i.test(r.pluginName));
      const atTable = (list: any[]) => list.filter((v) => JSON.stringify(v).includes('AnswerTable')).map((v) => v.ruleName).sort();
      expect(atTable(guard.violations)).toEqual([]);
      expect(atTable(guard.suppressedViolations)).toEqual(['dynamodb_table_encrypted_kms_check', 'dynamodb_table_pitr_enabled_check']);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

// The example app's suites (its templates and snapshot, cfn-guard's controls on the library's resources), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { spawnSync } from 'child_process';
import * as os from 'os';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Annotations, App, Duration, IPolicyValidationPluginBeta1, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { buildDemoApp } from '../bin/demo-app';
import { DemoStack } from '../bin/demo-stack';
import { testApp, FEATURE_FLAGS, TEST_ENV, testFunction } from './util';
import { StagedRollout, DeltaSProbe, GoldSet, GuardedAlias, IdempotencyTable, ReleaseDashboard, RolloutStrategy, ShadowIntegration } from '../lib';
import { RelevantControlTowerRules } from './helpers/guard-plugin';
import { disableCreationStackTraces, keepCreationStackTraces } from './helpers/synth-context';

describe('demo-app', () => {
  /** Asset hashes and the code hash in the version's logical ID change with every handler edit; the snapshot ignores them. */
  function normalise(template: unknown): unknown {
    return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{32,64}/g, '<hash>').replace(/rel-[0-9a-f]{12}/g, 'rel-<hash>'));
  }

  function nagReport(assemblyDir: string): any {
    const report = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'validation-report.json'), 'utf8'));
    return report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
  }

  describe('the example app', () => {
    // aws-cdk-lib's CloudFormation validator stays off here, as in every suite (test/setup-env.ts): none of these tests
    // reads its findings, and `npm run synth` (CI) runs it on this same app, failing on any error.

    // One synth of the example app, under cdk-nag, for every test that only reads it
    // (Template.fromStack reuses the app's assembly).
    const app = testApp();
    const stack = buildDemoApp(app);
    let assembly: CloudAssembly;
    let template: Template;
    beforeAll(() => {
      assembly = app.synth();
      template = Template.fromStack(stack);
    });

    test('synthesises with cdk-nag\'s AwsSolutions pack finding nothing unacknowledged, each acknowledgement with its reason', () => {
      const nag = nagReport(assembly.directory);
      expect(nag.conclusion).toBe('success');
      expect(nag.violations).toEqual([]);
      const acknowledged = nag.suppressedViolations.map((v: any) => `${v.ruleName.replace(/\[Policy::.*\/(.*)\]$/, '[$1]')} at ${v.acknowledgedAt}`).sort();
      expect(acknowledged).toEqual([
        'AwsSolutions-APIG3 at RolloutGuardrailsDemo/Api',
        'AwsSolutions-APIG4 at RolloutGuardrailsDemo/Api',
        'AwsSolutions-COG4 at RolloutGuardrailsDemo/Api',
        'AwsSolutions-DDB3 at RolloutGuardrailsDemo/StagedRollout/OperatorTable',
        'AwsSolutions-IAM4[AWSCodeDeployRoleForLambdaLimited] at RolloutGuardrailsDemo/RolloutGuardrails/DeploymentRole',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/AnswerFunction',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/AnswerShadowFunction',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/ControlVersions/Provider',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/Probe/Function',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/PurgeCanaryCache',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/RollbackHooks/Function',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/ShadowAnswer/Dispatcher',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/Gate',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/SafetyNet',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/Starter',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/Warm',
        'AwsSolutions-IAM4[AmazonAPIGatewayPushToCloudWatchLogs] at RolloutGuardrailsDemo/Api',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/ControlVersions/Provider',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/Probe/Function',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/RollbackHooks/Function',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/ShadowAnswer/Dispatcher',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/Gate',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/SafetyNet',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/Starter',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
        'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/Warm',
        'AwsSolutions-IAM5[Resource::<AnswerFunctionC9E3DEFB.Arn>:*] at RolloutGuardrailsDemo/RollbackHooks/Function',
        'AwsSolutions-IAM5[Resource::<AnswerShadowFunctionA0778B15.Arn>:*] at RolloutGuardrailsDemo/ShadowAnswer/Dispatcher',
        'AwsSolutions-IAM5[Resource::<ProbeFunctionCA5564E7.Arn>:*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
        'AwsSolutions-IAM5[Resource::<StagedRolloutGate7DEAA04C.Arn>:*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
        'AwsSolutions-IAM5[Resource::<StagedRolloutWarmD1CE4050.Arn>:*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<StagedRolloutStateMachine289C5D3F.Name>:*] at RolloutGuardrailsDemo/StagedRollout/SafetyNet',
      ]);
      for (const v of nag.suppressedViolations) expect(v.reason.length).toBeGreaterThan(20);
      // Every traced function's wildcard (X-Ray's trace writes take no resource) is acknowledged for that reason.
      const traced = ['ControlVersions/Provider', 'Probe/Function', 'RollbackHooks/Function', 'ShadowAnswer/Dispatcher', 'StagedRollout/Gate', 'StagedRollout/SafetyNet', 'StagedRollout/Starter', 'StagedRollout/StateMachine', 'StagedRollout/Warm'];
      for (const at of traced) {
        const ack = nag.suppressedViolations.find((v: any) => v.ruleName === 'AwsSolutions-IAM5[Resource::*]' && v.acknowledgedAt === `RolloutGuardrailsDemo/${at}`);
        expect([at, ack.reason]).toEqual([at, expect.stringMatching(/X-Ray|xray:PutTraceSegments/)]);
      }
    });

    test('fails its synth when a resource breaks an AwsSolutions rule', () => {
      const careless = testApp();
      new sqs.Queue(buildDemoApp(careless), 'CarelessQueue', { enforceSSL: false });
      expect(() => careless.synth()).toThrow(/The SQS queue does not require requests to use SSL[\s\S]*AwsSolutions-SQS4/);
    });

    describe('template', () => {
      test('sends every API method (answer and the mirrored route) to the GuardedAlias, never to $LATEST', () => {
        const aliasId = stack.getLogicalId(stack.guarded.alias.node.defaultChild as any);
        const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
        const integrated = methods.filter((m: any) => m.Properties.Integration?.Type === 'AWS_PROXY');
        expect(integrated.map((m: any) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'GET', 'POST']);
        for (const m of integrated) expect(JSON.stringify(m.Properties.Integration.Uri)).toContain(aliasId);
        // API Gateway may invoke the alias and nothing else (CloudWatch Logs, not the API, invokes the dispatcher).
        const apiPermissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
        expect(apiPermissions.length).toBeGreaterThan(0);
        for (const p of apiPermissions) expect(p.Properties.FunctionName).toEqual({ Ref: aliasId });
      });

      test('runs the demo function on the library\'s runtime from the prebundled asset', () => {
        template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Handler: 'index.handler' });
      });

      test('rolls the demo function out through CodeDeploy with its gate alarms, the probe\'s ΔS alarm and the cold-start gate', () => {
        template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
        const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
        expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(3);
        expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: stack.getLogicalId(stack.guarded.coldStartAlarm!.node.defaultChild as any) } });
        // Beside them, the shadow route's three alarms (mean ΔS, p95 ΔS, p95 latency) and the staged machinery's
        // dead-letter queue alarm, which CodeDeploy does not watch.
        const dlq = stack.getLogicalId(StagedRollout.of(stack).failedEventsAlarm.node.defaultChild as any);
        expect(group.Properties.AlarmConfiguration.Alarms).not.toContainEqual({ Name: { Ref: dlq } });
        // (and the rollback hooks' dead-letter alarm, likewise not CodeDeploy's to watch).
        const hooksDlq = stack.getLogicalId(stack.node.findChild('RollbackHooks').node.findChild('FailedEventsAlarm').node.defaultChild as any);
        expect(group.Properties.AlarmConfiguration.Alarms).not.toContainEqual({ Name: { Ref: hooksDlq } });
        expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SQS' } })).sort()).toEqual([dlq, hooksDlq].sort());
        template.resourceCountIs('AWS::CloudWatch::Alarm', 3 + 3 + 2);
      });

      test('gives each published version provisioned concurrency, warmed on each new version by the state machine before the first shift', () => {
        // On the version (AWS::Lambda::Version), never on the alias: nothing puts or deletes a configuration during a rollout.
        const versionId = stack.resolve((stack.guarded.version.node.defaultChild as any).logicalId) as string;
        expect(template.toJSON().Resources[versionId].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 2 });
        template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] }, ProvisionedConcurrencyConfig: Match.absent() });
        const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
        expect(JSON.stringify(machine.Properties.DefinitionString)).toMatch(/concurrency[\\"]*:2,[\\"]*pings[\\"]*:2/);
        template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: {} } });
      });

      test('rolls out by the default staged schedule: the starter before traffic moves, the probe before each step and after', () => {
        const probeId = stack.getLogicalId(stack.probe.function.node.defaultChild as any);
        const starterId = stack.getLogicalId(StagedRollout.of(stack).starterFunction.node.defaultChild as any);
        template.hasResource('AWS::Lambda::Alias', {
          UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: { Ref: starterId }, AfterAllowTrafficHook: { Ref: probeId } } },
        });
        template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
        const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
        const definition = JSON.stringify(machine.Properties.DefinitionString);
        expect(definition).toMatch(/steps[\\"]*:\[1,5,25,50,100\]/);
        expect(definition).toContain('probeFunctionArn');
        expect(stack.probe.goldItems).toHaveLength(54);
      });

      test('ships the normal build without the drift flag, and the drifted build with it', () => {
        const environments = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function'))
          .map((f: any) => f.Properties.Environment?.Variables?.DEMO_DRIFT);
        expect(environments(template)).not.toContain('1');
        const drifted = testApp();
        const driftedStack = new DemoStack(drifted, 'Drifted', { drift: true });
        expect(environments(Template.fromStack(driftedStack))).toContain('1');
      });

      test('matches the reviewed snapshot', () => {
        expect(normalise(template.toJSON())).toMatchSnapshot();
      });
    });
  });
});

describe('cfn-guard', () => {
  // scripts/check-guard-report.mjs tells a finding's owner (library or user) by its resource's creation stack trace:
  // this suite's apps keep them (test/helpers/jest-setup.ts turns them off for the others, the example app's above too).
  beforeAll(keepCreationStackTraces);
  afterAll(disableCreationStackTraces);

  /**
   * AWS Control Tower's proactive controls, run by cfn-guard through @cdklabs/cdk-validator-cfnguard as a CDK
   * policy-validation plugin (as in bin/app.ts, here with only the rules that name a resource type of the
   * templates: see test/helpers/guard-plugin.ts), classified by scripts/check-guard-report.mjs into findings on
   * the library's resources and on the user's.
   */

  const CHECK = path.join(__dirname, '..', 'scripts', 'check-guard-report.mjs');

  const item = (id: string) => JSON.stringify({
    id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.`,
  });
  const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

  interface Finding {
    readonly state: 'open' | 'acknowledged';
    readonly owner: 'library' | 'user' | 'unknown';
    readonly rule: string;
    readonly control: string;
    readonly constructPath: string;
    readonly acknowledgedAt?: string;
    readonly reason?: string;
  }

  interface Checked {
    /** The check's exit status. */
    readonly status: number | null;
    readonly findings: Finding[];
    /** Its plain-text output. */
    readonly text: string;
  }

  /** Synthesizes the app `build` fills under the cfn-guard plugin (in a temporary outdir) and runs the check on its report. */
  function synthUnderGuard(
    build: (app: App) => void,
    context: Record<string, unknown> = FEATURE_FLAGS,
    plugin: IPolicyValidationPluginBeta1 = new RelevantControlTowerRules(),
  ): Checked {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-guard-'));
    try {
      // The report is written to the outdir and judged by the check, not printed (nor thrown) by the synth.
      const app = new App({ context: { ...context, '@aws-cdk/core:failSynthOnValidationErrors': false }, outdir });
      Validations.of(app).addPlugins(plugin);
      build(app);
      app.synth();
      const report = path.join(outdir, 'validation-report.json');
      const run = (...flags: string[]) => spawnSync(process.execPath, [CHECK, report, ...flags], { encoding: 'utf8' });
      const asJson = run('--json');
      const asText = run();
      expect(asText.status).toBe(asJson.status);
      return { status: asJson.status, findings: JSON.parse(asJson.stdout).findings, text: asText.stdout + asText.stderr };
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }

  function stack(app: App, id: string): Stack {
    return new Stack(app, id, { env: TEST_ENV });
  }

  function probe(scope: Stack): DeltaSProbe {
    const p = new DeltaSProbe(scope, 'Probe', { goldSet: GOLD });
    Annotations.of(p).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'a two-question gold set is enough to synthesize');
    return p;
  }

  const summary = (f: Finding) => `${f.rule} ${f.constructPath}`;

  describe('the library\'s resources under AWS Control Tower\'s proactive controls (cfn-guard)', () => {
    let checked: Checked;
    beforeAll(() => {
      checked = synthUnderGuard((app) => {
        // Staged, with a probe, a warm-up and a notifications topic; a REST shadow route, an idempotency table, a dashboard.
        const s = stack(app, 'Staged');
        const stagedFn = testFunction(s, 'Fn');
        const topic = new sns.Topic(s, 'Topic', { enforceSSL: true });
        const staged = new GuardedAlias(s, 'Answer', {
          function: stagedFn, probe: probe(s), warmup: { provisionedConcurrency: 1 }, notifications: topic, strategy: RolloutStrategy.staged(),
        });
        new ShadowIntegration(s, 'Mirror', {
          api: new apigw.RestApi(s, 'Api'), method: 'GET', path: '/answer', live: staged, shadow: testFunction(s, 'Shadow'), sampleRate: 0.1, maxMirrorRps: 5,
        });
        new IdempotencyTable(s, 'Idempotency').grant(stagedFn);
        new ReleaseDashboard(s, 'Dashboard');

        // Canary, with a probe; an HTTP API shadow route.
        const c = stack(app, 'Canary');
        const canary = new GuardedAlias(c, 'Answer', { function: testFunction(c, 'Fn'), probe: probe(c), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
        new ShadowIntegration(c, 'Mirror', {
          api: new apigwv2.HttpApi(c, 'Api'), method: 'GET', path: '/answer', live: canary, shadow: testFunction(c, 'Shadow'), sampleRate: 0.1, maxMirrorRps: 5,
        });

        // Blue-green, with a warm-up, its machinery's logs under a key of the user's.
        const b = stack(app, 'BlueGreen');
        new GuardedAlias(b, 'Answer', {
          function: testFunction(b, 'Fn'), warmup: { provisionedConcurrency: 1 }, strategy: RolloutStrategy.blueGreen(),
          logsKey: new kms.Key(b, 'LogsKey', { enableKeyRotation: true }),
        });
        new ReleaseDashboard(b, 'Dashboard');
      });
    }, 180_000);

    test('leaves no finding open on a library resource, and tells every finding\'s owner', () => {
      expect(checked.findings.filter((f) => f.owner !== 'user' && f.state === 'open').map(summary)).toEqual([]);
      expect(checked.findings.filter((f) => f.owner === 'unknown').map(summary)).toEqual([]);
      expect(checked.status).toBe(0);
    });

    test('acknowledges each library finding where it is created, with its reason', () => {
      const acknowledged = checked.findings.filter((f) => f.owner === 'library' && f.state === 'acknowledged');
      expect([...new Set(acknowledged.map((f) => f.rule))].sort()).toEqual([
        'api_gw_v2_authorization_type_configured_check', // the HTTP shadow route takes the API's default authorizer
        'cloudwatch_alarm_action_check', // gate alarms (CodeDeploy watches them), shadow gates, the machinery's dead-letter alarm
        'cloudwatch_log_group_encrypted_check', // machinery logs without logsKey; the probe's, dispatcher's, provider's
        'dynamodb_table_encrypted_kms_check', // the idempotency, shadow results and operator tables on DynamoDB's AWS owned key
        'dynamodb_table_pitr_enabled_check', // the operator table: one item per alias, rewritten by each command
        'lambda_function_public_access_prohibited_check', // API Gateway's permission: SourceArn as Fn::Join (a false positive)
        'lambda_inside_vpc_check', // the library's functions call only AWS APIs
        'sqs_dlq_check', // the machinery's dead-letter queue
      ]);
      for (const f of acknowledged) {
        expect(f.reason!.length).toBeGreaterThan(40);
        // Acknowledged on the resource or a construct of the library around it, never on a whole stack.
        expect(f.acknowledgedAt!.split('/').length).toBeGreaterThan(1);
        expect(f.constructPath.startsWith(`${f.acknowledgedAt}/`)).toBe(true);
      }
      const at = (rule: string, constructPath: string) => acknowledged.find((f) => f.rule === rule && f.constructPath === constructPath);
      const permissions = acknowledged.filter((f) => f.rule === 'lambda_function_public_access_prohibited_check');
      expect(permissions.map((f) => f.constructPath.replace(/ApiPermission\..*$/, 'ApiPermission…')).sort()).toEqual([
        'Canary/Mirror/Route/LiveIntegration-Permission', // the HTTP route's
        'Staged/Api/Default/answer/GET/ApiPermission…', // the REST method's, and its test-invoke twin
        'Staged/Api/Default/answer/GET/ApiPermission…',
      ]);
      for (const f of permissions) expect(f.reason).toMatch(/False positive: .*SourceArn.*Fn::Join/);
      expect(at('api_gw_v2_authorization_type_configured_check', 'Canary/Mirror/Route/Resource')?.reason).toMatch(/defaultAuthorizer/);
      expect(at('sqs_dlq_check', 'Staged/StagedRollout/FailedEvents/Resource')).toBeDefined();
      expect(at('sqs_dlq_check', 'BlueGreen/BlueGreenSwitch/FailedEvents/Resource')).toBeDefined();
      expect(at('dynamodb_table_encrypted_kms_check', 'Staged/Idempotency/Table/Resource')?.reason).toMatch(/encryptionKey/);
      expect(at('cloudwatch_log_group_encrypted_check', 'Staged/StagedRollout/Logs/Resource')?.reason).toMatch(/logsKey/);
    });

    test('with a notifications topic the gate alarms have actions, and with logsKey the machinery\'s logs a key: nothing to acknowledge', () => {
      const all = checked.findings.map(summary).join('\n');
      expect(all).not.toMatch(/cloudwatch_alarm_action_check Staged\/Answer\//);
      expect(all).not.toMatch(/cloudwatch_log_group_encrypted_check BlueGreen\/BlueGreenSwitch\//);
      // Without them (canary: no topic; staged: no key) the same resources are acknowledged.
      expect(all).toMatch(/cloudwatch_alarm_action_check Canary\/Answer\/Gates\/Alarm\/Resource/);
      expect(all).toMatch(/cloudwatch_log_group_encrypted_check Staged\/StagedRollout\/GateLogs\/Resource/);
    });

    test('reports the user\'s own resources as the user\'s: their functions, log groups, API methods and key', () => {
      const users = checked.findings.filter((f) => f.owner === 'user');
      expect(users.map(summary)).toEqual(expect.arrayContaining([
        'lambda_inside_vpc_check Staged/Fn/Resource',
        'lambda_inside_vpc_check Canary/Shadow/Resource',
        'cloudwatch_log_group_encrypted_check Staged/Fn/LogGroup/Resource',
        'kms_create_grant_aws_service_check BlueGreen/LogsKey/Resource',
      ]));
      for (const f of users) {
        // The plugin also reports CT.KMS.PR.3 once at the template's root, with no resource: it goes with the key.
        if (f.constructPath === '') expect(f.rule).toBe('kms_create_grant_aws_service_check');
        else expect(f.constructPath).toMatch(/^(Staged|Canary|BlueGreen)\/(Fn|Shadow|Api|Topic|LogsKey)\//);
      }
    });
  });

  test('the live function\'s log group a shadow route creates (no CDK-managed log group) is acknowledged for its month and its key', () => {
    const context = { ...FEATURE_FLAGS };
    delete context['@aws-cdk/aws-lambda:useCdkManagedLogGroup'];
    const checked = synthUnderGuard((app) => {
      const s = stack(app, 'Shadowed');
      const live = new GuardedAlias(s, 'Answer', { function: testFunction(s, 'Fn'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
      new ShadowIntegration(s, 'Mirror', {
        api: new apigw.RestApi(s, 'Api'), method: 'GET', path: '/answer', live, shadow: testFunction(s, 'Shadow'), sampleRate: 0.1, maxMirrorRps: 5,
      });
    }, context);
    expect(checked.findings.filter((f) => f.owner !== 'user' && f.state === 'open').map(summary)).toEqual([]);
    expect(checked.findings.filter((f) => f.constructPath === 'Shadowed/Mirror/LiveLogGroup/Resource').map((f) => `${f.owner} ${f.state} ${f.rule}`).sort()).toEqual([
      'library acknowledged cloudwatch_log_group_encrypted_check',
      'library acknowledged cloudwatch_log_group_retention_period_check',
    ]);
    expect(checked.status).toBe(0);
  }, 120_000);

  test('the check tells a user\'s findings from an open one on a library resource, and fails on the latter', () => {
    const build = (app: App) => {
      const s = stack(app, 'Mixed');
      // The user's: a plain function (no VPC) and a log group kept a week, unencrypted.
      testFunction(s, 'Plain');
      new logs.LogGroup(s, 'UserLogs', { retention: logs.RetentionDays.ONE_WEEK });
      // The library's, configured by the user against a control: no point-in-time recovery.
      new IdempotencyTable(s, 'Idempotency', { pointInTimeRecovery: false });
    };
    const checked = synthUnderGuard(build);
    // The suite runs only the rules that name a resource type of the templates: on this stack they find what
    // the whole rule set of bin/app.ts finds.
    const whole = synthUnderGuard(build, FEATURE_FLAGS, new CfnGuardValidator({ controlTowerRulesEnabled: true }));
    expect(checked.findings).toEqual(whole.findings);
    expect(checked.text).toEqual(whole.text);
    const open = checked.findings.filter((f) => f.state === 'open');
    expect(open.filter((f) => f.owner === 'user').map(summary).sort()).toEqual([
      'cloudwatch_log_group_encrypted_check Mixed/Plain/LogGroup/Resource',
      'cloudwatch_log_group_encrypted_check Mixed/UserLogs/Resource',
      'cloudwatch_log_group_retention_period_check Mixed/UserLogs/Resource',
      'lambda_inside_vpc_check Mixed/Plain/Resource',
    ]);
    expect(open.filter((f) => f.owner === 'library').map((f) => `${f.control} ${summary(f)}`)).toEqual([
      'CT.DYNAMODB.PR.1 dynamodb_table_pitr_enabled_check Mixed/Idempotency/Table/Resource',
    ]);
    expect(checked.status).toBe(1);
    expect(checked.text).toMatch(/library OPEN CT\.DYNAMODB\.PR\.1 +dynamodb_table_pitr_enabled_check  Mixed\/Idempotency\/Table\/Resource/);
    expect(checked.text).toMatch(/library resources: 1 open, 1 acknowledged; user resources: 4 open, 0 acknowledged/);
  }, 120_000);
});

// The suites that drive bench/ (scale stacks and the rehearsals), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { figures, guardedAliasStack, guardedCanaryStack, handWrittenStack, STACK_RESOURCE_LIMIT, TEMPLATE_SIZE_LIMIT } from '../bench/scale-stacks';
import { expectSynthWarnings } from './helpers/console';
import { loadGold, summaryTable, formatEntry, rehearse, SCENARIOS } from '../bench/rehearse';
import { BLUE_GREEN_SCENARIOS, BLUE_GREEN_STRATEGY, formatBlueGreenEntry, rehearseBlueGreen } from '../bench/rehearse-blue-green';
import { REPORT_BOUND_SECONDS } from '../packages/runtime/src/contract/blue-green';

describe('scale', () => {
  describe('a stack of 30 GuardedAliases', () => {
    const ours = figures(guardedAliasStack(30), 30);
    const canary = figures(guardedCanaryStack(30), 30);
    const handWritten = figures(handWrittenStack(30), 30);

    test('costs fewer resources per function than the hand-written LambdaDeploymentGroup pattern, staged (the default) or canary', () => {
      for (const f of [ours, canary]) {
        expect(f.perFunction).toBeLessThan(handWritten.perFunction);
        expect(f.rolloutPerFunction).toBeLessThan(handWritten.rolloutPerFunction);
      }
    });

    test('shares one CodeDeploy application and one deployment role across the stack', () => {
      expect(ours.byType['AWS::CodeDeploy::Application']).toBe(1);
      expect(handWritten.byType['AWS::CodeDeploy::Application']).toBe(30);
      // 30 function roles, the shared deployment role and the control-version provider's role; staged adds
      // the state machine's role and its three functions' roles, shared too.
      expect(canary.byType['AWS::IAM::Role']).toBe(32);
      expect(ours.byType['AWS::IAM::Role']).toBe(36);
      expect(ours.byType['AWS::StepFunctions::StateMachine']).toBe(1);
      expect(ours.byType['AWS::SSM::Parameter']).toBeUndefined();
    });

    test('fits in one CloudFormation stack with room to spare', () => {
      expect(ours.total).toBeLessThan(STACK_RESOURCE_LIMIT);
      // Per function: version, alias, deployment group and ONE gate alarm (the three metric gates share it).
      // Shared: the application, the deployment role, the control-version resource and its provider's function,
      // role, policy and log group (7).
      expect(canary.rolloutPerFunction).toBeCloseTo(4 + 7 / 30, 5);
      // Staged adds no resource per alias. Shared, constant (27):
      // - the state machine, its role, policy and log group (/aws/vendedlogs/states/...) (4);
      // - the gate, starter and safety-net functions, each with its role, policy and own log group (12);
      // - the starter's and the safety net's EventInvokeConfig (retryAttempts 2, asynchronous invocations) (2);
      // - the dead-letter queue FailedEvents, its queue policy (SSL only, EventBridge's delivery) and its
      //   FailedEventsAlarm (3);
      // - the safety-net rule (deployments that fail or stop) and the ExecutionEndRule (executions that end
      //   FAILED/TIMED_OUT/ABORTED), each with the permission to invoke the safety net (4);
      // - the deployment role's policy that lets CodeDeploy invoke the starter (1);
      // - the operator table the CLI's commands are written to (1).
      // Plus the overflow managed policies CDK splits off when a shared role's inline policy outgrows IAM's
      // size limit: each alias adds its ARNs to the state machine's and the safety net's grants, and at 30
      // aliases each of those two roles has one (2); the gate's reads are on *, and its policy does not grow.
      const constant = 4 + 12 + 2 + 3 + 4 + 1 + 1;
      for (const type of ['AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', 'AWS::StepFunctions::StateMachine']) expect(ours.byType[type]).toBe(1);
      expect(ours.byType['AWS::Events::Rule']).toBe(2);
      expect(ours.byType['AWS::Lambda::EventInvokeConfig']).toBe(2);
      expect(ours.byType['AWS::Lambda::Permission']).toBe(2);
      // 30 gate alarms and the dead-letter queue's alarm.
      expect(ours.byType['AWS::CloudWatch::Alarm']).toBe(30 + 1);
      // 30 released functions' log groups, the provider's, the state machine's and the three functions'.
      expect(ours.byType['AWS::Logs::LogGroup']).toBe(30 + 1 + 1 + 3);
      expect(ours.byType['AWS::IAM::ManagedPolicy']).toBe(2);
      expect(ours.rolloutPerFunction).toBeCloseTo(4 + (7 + constant + 2) / 30, 5);
      // 246 resources in all: 30 × (function, role, log group) + 30 × 4 + 7 + 27 + 2.
      expect(ours.total).toBe(30 * 3 + 30 * 4 + 7 + constant + 2);
    });
  });

  describe('a stack at 60 staged GuardedAliases (issue #14: at least 60 per stack)', () => {
    // 7 resources per function (its function, role and log group; version, alias, deployment group, gate alarm),
    // the shared machinery (7 + 27), and the overflow managed policies of the two shared roles whose grants
    // name every alias (2 at 30 aliases, 11 at 60): 60 × 7 + 34 + 11 = 465, under CloudFormation's 500.
    // Its template is over 80 % of the 1 MB limit, on purpose: aws-cdk-lib warns that it approaches the limit.
    let sixty: ReturnType<typeof figures>;
    beforeAll(() => {
      sixty = expectSynthWarnings(['@aws-cdk/core:Stack.templateSize'], () => figures(guardedAliasStack(60), 60));
    });

    test('fits under CloudFormation\'s 500 resources and 1 MB template', () => {
      expect(sixty.total).toBeLessThanOrEqual(STACK_RESOURCE_LIMIT);
      expect(sixty.byType['AWS::IAM::ManagedPolicy']).toBe(11);
      expect(sixty.total).toBe(60 * 7 + 7 + 27 + 11);
      expect(sixty.templateBytes).toBeLessThan(TEMPLATE_SIZE_LIMIT);
    });

    test('costs 7 resources a function, one gate alarm each', () => {
      expect(sixty.byType['AWS::CloudWatch::Alarm']).toBe(60 + 1);
      for (const type of ['AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::CodeDeploy::DeploymentGroup']) expect(sixty.byType[type]).toBe(60);
    });
  });
});

describe('rehearse-blue-green', () => {
  const gold = loadGold();
  const scenario = (name: string) => BLUE_GREEN_SCENARIOS.find((s) => s.name === name)!;
  /** Each scenario's rehearsal, run once for the tests that read it (it is seeded: every run of a scenario is the same). */
  const rehearsals = new Map<string, ReturnType<typeof rehearseBlueGreen>>();
  const rehearsed = (name: string) => {
    if (!rehearsals.has(name)) rehearsals.set(name, rehearseBlueGreen(scenario(name), { gold }));
    return rehearsals.get(name)!;
  };

  describe('npm run rehearse: blue-green', () => {
    test('switches the good version after invariants, smoke and freeze, holds and watches it 15 minutes, and keeps it', async () => {
      const result = await rehearsed('blue-green good');
      // A read every 5 s (checkInterval) and a probe run every 36 s (30 s run, 1 s judgement, 5 s wait), as the machine's run.
      expect(result).toMatchObject({ outcome: 'held', switchedAt: 32, brokenRules: [], metricChecks: 151, probeRuns: 26 });
      expect(result.timeline.slice(0, 4).map((e) => e.step)).toEqual(['invariants', 'smoke', 'freeze', 'switch']);
      expect(result.timeline[0].text).toBe('✓ version 8 carries every pin: INDEX_HASH=idx-42, SCHEMA_REV=v3');
      expect(result.timeline[1].text).toBe('✓ ΔS probe on 20 gold questions: Succeeded');
      expect(result.timeline.some((e) => e.step === 'report' || e.step === 'rollback')).toBe(false);
      expect(result.timeline[result.timeline.length - 1]).toMatchObject({ step: 'resume', weight: 100, text: '1 consumer resumed (jobs); Succeeded reported: version 8 stays' });
      // The hold lasted its 900 s, both loops' last checks saying succeed.
      expect(result.timeline.filter((e) => e.text.includes('→ SUCCEED')).map((e) => e.step)).toEqual(['metrics', 'probe']);
      expect(result.seconds - result.switchedAt!).toBeGreaterThanOrEqual(900);
    });

    test('rolls back the version whose answers drift after the switch: Failed reported at once, traffic off after CodeDeploy\'s assumed rollback shift, within the worst-case rollback', async () => {
      const result = await rehearsed('blue-green drift after switch');
      const worst = BLUE_GREEN_STRATEGY.worstCaseRollback!.toSeconds();
      const shift = BLUE_GREEN_STRATEGY.rollbackShift.toSeconds();
      expect([worst, shift]).toEqual([119, 15]);
      expect(result).toMatchObject({
        outcome: 'rolled back', brokenRules: ['maxDeltaSP95Drift', 'minCoverage'], breachAt: 392,
        reportedAt: 424, secondsToReport: 32, trafficOffAt: 439, secondsToTrafficOff: 47,
      });
      // The report within the worst case less the shift; the traffic off one assumed shift later, within the worst case.
      expect(result.secondsToReport!).toBeLessThanOrEqual(worst - shift);
      expect(result.secondsToTrafficOff).toBe(result.secondsToReport! + shift);
      expect(result.secondsToTrafficOff!).toBeLessThanOrEqual(worst);
      expect(result.reason).toMatch(/^stop rule broken 391 s into the hold, rolling back: ΔS p95 drift \(new 0\.4011 − old 0\) 0\.4011 > 0\.15; median coverage of the new version 0\.5 < 0\.6$/);
      // Before the drift every probe run held; the smoke passed (the drift came after the switch).
      const probes = result.timeline.filter((e) => e.step === 'probe');
      expect(probes.slice(0, -1).every((e) => e.text.includes('→ CONTINUE'))).toBe(true);
      // The report and the resume beside it leave the traffic on version 8; CodeDeploy's rollback takes it off. Nothing says UpdateAlias.
      expect(result.timeline.slice(-3).map((e) => [e.step, e.at, e.weight])).toEqual([['report', 424, 100], ['resume', 424, 100], ['rollback', 439, 0]]);
      expect(result.timeline.some((e) => e.text.includes('UpdateAlias'))).toBe(false);
      expect(result.seconds).toBe(439);
    });

    test('prints each broken rule with its measured value and threshold, the time to the report and to traffic off, and a row in the summary table', async () => {
      const result = await rehearsed('blue-green drift after switch');
      const lines = result.timeline.flatMap(formatBlueGreenEntry);
      expect(lines.some((l) => /✗ maxDeltaSP95Drift\s+measured 0\.4011\s+threshold 0\.15/.test(l))).toBe(true);
      expect(lines.some((l) => /✓ maxLambdaFlipRate\s+measured 0\.15\s+threshold 0\.2\s+λ flip rate 3 of 20/.test(l))).toBe(true);
      expect(lines.find((l) => l.includes('  report '))).toMatch(new RegExp(
        `t\\+07:04 .*100 %  report\\s+PutLifecycleEventHookExecutionStatus Failed: 32 s after the breach began \\(at most 104 s: detection \\+ the report's ${REPORT_BOUND_SECONDS} s\\); CodeDeploy starts its rollback, the alias still on version 8$`));
      expect(lines.find((l) => l.includes('  rollback '))).toMatch(
        /t\+07:19 .*  0 %  rollback\s+CodeDeploy's rollback points the alias back at version 7 \(the old one\), rollbackShift 15 s assumed: traffic off 47 s after the breach began \(worst case 119 s\)$/);
      const table = summaryTable([result]).split('\n');
      expect(table[2]).toMatch(/^\| blue-green drift after switch \| rolled back \| 100 %\s+\| reported in 32 s, traffic off in 47 s \| 77\s+\| 12\s+\| 07:19\s+\| maxDeltaSP95Drift, minCoverage \|$/);
    });
  });
});

describe('staged-rehearsal', () => {
  const gold = loadGold();
  const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
  /** Each scenario's rehearsal, run once for the tests that read it (it is seeded: every run of a scenario is the same). */
  const rehearsals = new Map<string, ReturnType<typeof rehearse>>();
  const rehearsed = (name: string) => {
    if (!rehearsals.has(name)) rehearsals.set(name, rehearse(scenario(name), { gold }));
    return rehearsals.get(name)!;
  };

  describe('npm run rehearse', () => {
    test('takes the good version through every step and reports Succeeded for CodeDeploy to move the rest', async () => {
      const result = await rehearsed('good');
      expect(result).toMatchObject({ outcome: 'succeeded', maxWeight: 50, endedBefore: 100 });
      const shifts = result.timeline.filter((e) => e.output.next === 'shift').map((e) => e.output.weight);
      expect(shifts).toEqual([1, 5, 25, 50]);
      expect(result.timeline.every((e) => e.output.decision !== 'rollback')).toBe(true);
    });

    test('rolls the drifting version back before any user sees it: the probe fails twice before 1 %', async () => {
      const result = await rehearsed('ΔS drift');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 0, endedBefore: 1, failedGates: ['probe'], checks: 2 });
      expect(result.reason).toMatch(/^gates failed 2 of 2 times before 1 %: ΔS probe failed: maxDeltaSDrift/);
    });

    test('rolls the slower version back at 1 %: the live p95 gate fails twice before 5 % while the probe passes', async () => {
      const result = await rehearsed('latency regression');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 1, endedBefore: 5, failedGates: ['maxP95Ratio'] });
      const checks = result.timeline.filter((e) => e.phase === 'check');
      expect(checks.map((e) => e.output.decision)).toEqual(['advance', 'hold', 'rollback']);
      expect(checks.every((e) => e.probe?.status === 'Succeeded')).toBe(true);
    });

    test('rolls the erroring version back at 1 %: the live error-rate gates fail twice before 5 %', async () => {
      const result = await rehearsed('error spike');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 1, endedBefore: 5 });
      expect(result.failedGates).toEqual(['maxErrorRate', 'maxErrorRateDelta']);
      expect(result.timeline.filter((e) => e.output.decision === 'hold')).toHaveLength(1);
    });

    test('topic-coverage: one topic unanswered passes the median gates, and is rolled back at 5 % by the topic stop rule', async () => {
      const result = await rehearsed('topic-coverage');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 5, endedBefore: 25, failedGates: ['probe'] });
      const checks = result.timeline.filter((e) => e.phase === 'check');
      // Passed before 1 % (the whole gold set: median coverage and drift within their gates) and before 5 % (no
      // stop rule in force at 1 %); failed twice at 5 % on the topic rule alone.
      expect(checks.map((e) => e.output.decision)).toEqual(['advance', 'advance', 'hold', 'rollback']);
      expect(result.reason).toMatch(/ΔS probe failed: minTopicCoverage: coverage of topic "routing" 0 < 0\.7/);
      expect(result.reason).not.toMatch(/maxDeltaS|minCoverage:|maxLambdaFlips/);
    });

    test('paraphrase-flips: two paraphrases turning unstable at 50 % are rolled back there by the paraphrase stop rule', async () => {
      const result = await rehearsed('paraphrase-flips');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 50, endedBefore: 100, failedGates: ['probe'] });
      expect(result.reason).toMatch(/maxParaphraseFlips: most wordings of one gold question whose λ flips 2 > 1 \(latency-judge: paraphrase 1 \w+ → \w+, paraphrase 2/);
      const probeFailures = result.timeline.filter((e) => e.phase === 'check' && e.probe?.status === 'Failed');
      expect(probeFailures.map((e) => e.weightBefore)).toEqual([50, 50]);
    });

    test('new-error-class: a 503 the current version never returns is rolled back at 1 %, the class named', async () => {
      const result = await rehearsed('new-error-class');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 1, endedBefore: 5 });
      expect(result.failedGates).toContain('newErrorClass');
      const last = result.timeline[result.timeline.length - 1];
      expect(last.output.gates.find((g) => g.name === 'newErrorClass')?.reason).toMatch(/^new error class 503: shown by the new version, not by the current one/);
      // The good version's ordinary 500s are the current version's class too: the rule never fired on it.
      const good = await rehearsed('good');
      expect(good.timeline.flatMap((e) => e.output.gates).filter((g) => g.name === 'newErrorClass').every((g) => g.passed === true)).toBe(true);
    });

    test('queue-backlog: a consumer that falls behind at 5 % is rolled back there by the queue-age gate, and its capped consumers restored', async () => {
      const result = await rehearsed('queue-backlog');
      expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 5, endedBefore: 25, failedGates: ['queueAge:jobs'] });
      expect(result.reason).toMatch(/queue age of jobs: slope \+\d+(\.\d+)? s\/min > 6 s\/min over 5 min/);
      // The consumers capped below 25 % are restored with the rollback, by the gate's decision (as the gate function does).
      expect(result.fenceLifted).toEqual({ at: result.seconds, why: 'the rollout rolls back' });
      const last = result.timeline[result.timeline.length - 1];
      expect(formatEntry(last)).toContainEqual(expect.stringMatching(/↺ consumer fence: resumed 1 event source mapping \(jobs-consumer@cap:none\): the rollout rolls back/));
      expect(result.timeline.slice(0, -1).every((e) => !e.output.progress.fenceLifted)).toBe(true);
      // At 1 % the queue was healthy: judged, and young enough to pass.
      const atOne = result.timeline.find((e) => e.phase === 'check' && e.weightBefore === 1)!;
      expect(atOne.output.gates.find((g) => g.name === 'queueAge:jobs')).toMatchObject({ passed: true });
    });

    test('shadow-unpromoted: a release shadowed 9 hours of 24, with schema violations, is refused before any traffic or probe', async () => {
      const result = await rehearsed('shadow-unpromoted');
      expect(result).toMatchObject({ outcome: 'refused', maxWeight: 0, endedBefore: 1, probeRuns: 0, checks: 1, failedGates: ['shadow:window', 'shadow:schemaViolations'] });
      expect(result.reason).toMatch(/shadowed for 9 h only; it must be shadowed for 24 h/);
      const lines = formatEntry(result.timeline[0]);
      expect(lines[0]).toMatch(/0 %  stage 0: has the release passed shadow\?  → REFUSE/);
      expect(lines).toContainEqual(expect.stringMatching(/✓ shadow:medianDeltaS\s+measured 0\.18/));
      expect(summaryTable([result]).split('\n')[2]).toMatch(/^\| shadow-unpromoted \| refused \| 0 %\s+\| before 1 %/);
    });

    test('prints each gate with its measured value and threshold, and a summary table', async () => {
      const result = await rehearsed('error spike');
      const lines = result.timeline.flatMap(formatEntry);
      expect(lines.some((l) => /✗ maxErrorRate\s+measured 0\.\d+\s+threshold 0\.01/.test(l))).toBe(true);
      expect(lines[0]).toMatch(/t\+01:00 .* 0 %  check before 1 %  → ADVANCE: every gate passed: shift to 1 %/);
      const table = summaryTable([result]);
      expect(table.split('\n')[2]).toMatch(/^\| error spike \| rolled back \| 1 %\s+\| before 5 %/);
    });
  });
});

// The integ suite's inspector: reads what the assertions cannot read in one AWS call (an alias and the release of
// each version it routes to, a deployment group's deployments with their lifecycle events and whether a state
// machine gated them, the hooks' "not gated" log lines, a metric's maximum) and answers a small JSON summary of
// facts. It judges nothing: the assertions compare the facts with what they expect. Node.js 22, AWS SDK v3 as the
// Lambda runtime ships it; no dependency to bundle.
const { LambdaClient, GetAliasCommand, GetFunctionConfigurationCommand, GetEventSourceMappingCommand } = require('@aws-sdk/client-lambda');
const {
  CodeDeployClient, ListDeploymentsCommand, BatchGetDeploymentsCommand, ListDeploymentTargetsCommand, BatchGetDeploymentTargetsCommand,
} = require('@aws-sdk/client-codedeploy');
const { SFNClient, ListExecutionsCommand } = require('@aws-sdk/client-sfn');
const { CloudWatchClient, GetMetricStatisticsCommand } = require('@aws-sdk/client-cloudwatch');
const { CloudWatchLogsClient, FilterLogEventsCommand } = require('@aws-sdk/client-cloudwatch-logs');
const { CloudFormationClient, DescribeStackEventsCommand } = require('@aws-sdk/client-cloudformation');

const lambda = new LambdaClient({});
const codedeploy = new CodeDeployClient({});
const sfn = new SFNClient({});
const cloudwatch = new CloudWatchClient({});
const logs = new CloudWatchLogsClient({});
const cloudformation = new CloudFormationClient({});

/** Creators of a deployment that is a rollback (CodeDeploy's DeploymentInfo.creator). */
const ROLLBACK_CREATORS = ['codeDeployRollback', 'CloudFormationRollback'];

exports.handler = async (event) => {
  const answer = await answerTo(event);
  console.log(JSON.stringify({ message: 'integ inspector', op: event.op, answer }));
  return answer;
};

async function answerTo(event) {
  switch (event && event.op) {
    case 'alias': return aliasState(event);
    case 'deployments': return only(await deploymentsOf(event), event.only);
    case 'metricMax': return metricMax(event);
    case 'consumer': return consumerState(event);
    default: throw new Error(`unknown op: ${JSON.stringify(event)}`);
  }
}

/** `answer` cut to its `key` part when asked (a custom resource's response must stay under 4 KB). */
function only(answer, key) {
  return key ? { [key]: answer[key] } : answer;
}

/** The release label (RELEASE_LABEL) of one version; 'gone' when the version no longer exists. */
async function releaseOf(functionName, version) {
  if (!version) return 'none';
  try {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    return (config.Environment && config.Environment.Variables && config.Environment.Variables.RELEASE_LABEL) || 'unlabelled';
  } catch (error) {
    if (error && error.name === 'ResourceNotFoundException') return 'gone';
    throw error;
  }
}

/** `{ functionName, alias }`: the release the alias serves and every release it gives a weight to. */
async function aliasState({ functionName, alias }) {
  const a = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
  const weights = (a.RoutingConfig && a.RoutingConfig.AdditionalVersionWeights) || {};
  const weighted = [];
  for (const [version, weight] of Object.entries(weights)) weighted.push({ release: await releaseOf(functionName, version), weight });
  return { release: await releaseOf(functionName, a.FunctionVersion), weightedVersions: weighted.length, weighted };
}

/** `{ uuid }`: the state of an event source mapping and when it last changed (epoch seconds). */
async function consumerState({ uuid }) {
  const m = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
  return { state: m.State, lastModified: m.LastModified ? Math.round(new Date(m.LastModified).getTime() / 1000) : null };
}

async function allDeploymentIds(applicationName, deploymentGroupName) {
  const ids = [];
  let nextToken;
  do {
    const page = await codedeploy.send(new ListDeploymentsCommand({ applicationName, deploymentGroupName, nextToken }));
    ids.push(...(page.deployments || []));
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

async function deploymentInfos(ids) {
  const infos = [];
  for (let i = 0; i < ids.length; i += 25) {
    const page = await codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) }));
    infos.push(...(page.deploymentsInfo || []));
  }
  return infos.sort((a, b) => new Date(a.createTime).getTime() - new Date(b.createTime).getTime());
}

/** The Lambda target of a deployment: its versions and lifecycle events (empty when CodeDeploy lists none). */
async function lambdaTargetOf(deploymentId) {
  const listed = await codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId }));
  const targetIds = listed.targetIds || [];
  if (targetIds.length === 0) return undefined;
  const got = await codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds }));
  const target = (got.deploymentTargets || []).map((t) => t.lambdaTarget).find(Boolean);
  return target;
}

/** Names of every execution of the given state machines (a staged or blue-green execution is named after its deployment). */
async function executionNames(stateMachineArns) {
  const names = [];
  for (const stateMachineArn of stateMachineArns || []) {
    let nextToken;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken, maxResults: 1000 }));
      names.push(...(page.executions || []).map((e) => e.name));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return names;
}

/** Deployment ids the hooks logged as not gated, by why (`rollback`, `unchanged`, `ended`). */
async function notGatedByHooks(logGroupNames) {
  const skipped = {};
  for (const logGroupName of logGroupNames || []) {
    let nextToken;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: '"not gated"', nextToken }));
      for (const e of page.events || []) {
        const json = e.message.slice(e.message.indexOf('{'));
        try {
          const line = JSON.parse(json);
          if (line.deploymentId) skipped[line.deploymentId] = line.skipped || 'unknown';
        } catch { /* not one of the hooks' JSON lines */ }
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return skipped;
}

const seconds = (from, to) => (from && to ? Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000) : null);

/**
 * `{ application, deploymentGroup, functionName, stateMachineArns?, hookLogGroups?, only? }`: every deployment of the group,
 * oldest first, summed up as
 * - `rollouts`: the deployments that are not rollbacks, each `{ release, status, hooks, gated }` (`release`: the
 *   RELEASE_LABEL of the version it shifts to; `hooks`: each lifecycle event's status; `gated`: a state machine
 *   execution is named after it);
 * - `lastRollout`: the newest of them;
 * - `rollbacks`: the rollback deployments (creator codeDeployRollback or CloudFormationRollback, or naming the
 *   deployment they roll back), with `any`, `allSucceeded`, `noneGated` (no execution named after any of them, and
 *   none of their hooks Failed), `hooksRan` (how many ran a BeforeAllowTraffic hook: docs/aws-behaviour.md CD-10),
 *   `everyHookRunSaidNotGated` (each of those is in the hooks' "not gated ... rollback" log lines), `creators`, and
 *   `startedAfterFailureSeconds` (CD-15), reported, not judged;
 * - `observed`: the same measurements as text, for the assertion stack's `Observed*` outputs.
 * `only` keeps one of these parts.
 */
async function deploymentsOf({ application, deploymentGroup, functionName, stateMachineArns, hookLogGroups }) {
  const infos = await deploymentInfos(await allDeploymentIds(application, deploymentGroup));
  const names = await executionNames(stateMachineArns);
  const notGated = await notGatedByHooks(hookLogGroups);
  const all = [];
  for (const info of infos) {
    const target = await lambdaTargetOf(info.deploymentId);
    const events = (target && target.lifecycleEvents) || [];
    const hooks = Object.fromEntries(events.map((e) => [e.lifecycleEventName, e.status]));
    const before = events.find((e) => e.lifecycleEventName === 'BeforeAllowTraffic');
    const rollback = ROLLBACK_CREATORS.includes(info.creator) || !!(info.rollbackInfo && info.rollbackInfo.rollbackTriggeringDeploymentId);
    all.push({
      id: info.deploymentId,
      creator: info.creator,
      status: info.status,
      rollback,
      release: await releaseOf(functionName, target && target.lambdaFunctionInfo && target.lambdaFunctionInfo.targetVersion),
      hooks,
      beforeHookRan: !!(before && before.status && before.status !== 'Skipped' && before.status !== 'Pending'),
      gated: names.some((n) => n.includes(info.deploymentId)),
      createTime: info.createTime,
      completeTime: info.completeTime,
      rolledBackBy: info.rollbackInfo && info.rollbackInfo.rollbackDeploymentId,
    });
  }
  const brief = (d) => d && { release: d.release, status: d.status, hooks: d.hooks, gated: d.gated };
  const rollouts = all.filter((d) => !d.rollback);
  const rollbacks = all.filter((d) => d.rollback);
  const failed = rollouts.filter((d) => d.status === 'Failed');
  const lastFailed = failed[failed.length - 1];
  const firstRollbackOfIt = lastFailed && all.find((d) => d.id === lastFailed.rolledBackBy);
  const ran = rollbacks.filter((d) => d.beforeHookRan);
  return {
    count: all.length,
    rollouts: rollouts.map(brief),
    lastRollout: brief(rollouts[rollouts.length - 1]) || {},
    rollbacks: {
      any: rollbacks.length > 0,
      count: rollbacks.length,
      allSucceeded: rollbacks.every((d) => d.status === 'Succeeded'),
      noneGated: rollbacks.every((d) => !d.gated && !Object.values(d.hooks).includes('Failed')),
      hooksRan: ran.length,
      everyHookRunSaidNotGated: ran.every((d) => notGated[d.id] === 'rollback'),
      creators: [...new Set(rollbacks.map((d) => d.creator))],
      startedAfterFailureSeconds: firstRollbackOfIt ? seconds(lastFailed.completeTime, firstRollbackOfIt.createTime) : null,
      tookSeconds: rollbacks.map((d) => seconds(d.createTime, d.completeTime)),
    },
    // What docs/aws-behaviour.md lists as unknown, measured here and reported by integ/run.ts (never judged): always
    // the same keys, scalar values, so that the assertion stack can output them.
    observed: {
      rollbackCreators: rollbacks.length ? [...new Set(rollbacks.map((d) => d.creator))].join(' ') : 'none',
      hooksRanOnRollbacks: `${ran.length} of ${rollbacks.length}`,
      rollbackStartedAfterFailureSeconds: firstRollbackOfIt ? `${seconds(lastFailed.completeTime, firstRollbackOfIt.createTime)} s` : 'n/a',
      rollbackTookSeconds: firstRollbackOfIt ? `${seconds(firstRollbackOfIt.createTime, firstRollbackOfIt.completeTime)} s` : 'n/a',
    },
  };
}

/** When the latest update of a stack started: its newest UPDATE_IN_PROGRESS event on the stack itself. */
async function lastUpdateStart(stackName) {
  let nextToken;
  do {
    const page = await cloudformation.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: nextToken }));
    const start = (page.StackEvents || []).find((e) => e.ResourceType === 'AWS::CloudFormation::Stack' && e.ResourceStatus === 'UPDATE_IN_PROGRESS');
    if (start) return new Date(start.Timestamp);
    nextToken = page.NextToken;
  } while (nextToken);
  throw new Error(`stack ${stackName} has no update`);
}

/**
 * `{ namespace, metricName, dimensions: [{ Name, Value }], minutes?, sinceLastUpdateOf? }`: the largest Maximum of the
 * one-minute datapoints since the latest update of the stack `sinceLastUpdateOf` started (else in the last `minutes`).
 */
async function metricMax({ namespace, metricName, dimensions, minutes, sinceLastUpdateOf }) {
  const end = new Date();
  const start = sinceLastUpdateOf ? await lastUpdateStart(sinceLastUpdateOf) : new Date(end.getTime() - (minutes || 120) * 60_000);
  const got = await cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: namespace, MetricName: metricName, Dimensions: dimensions, StartTime: start, EndTime: end, Period: 60, Statistics: ['Maximum'],
  }));
  const points = got.Datapoints || [];
  return { datapoints: points.length, max: points.length ? Math.max(...points.map((p) => p.Maximum)) : -1 };
}

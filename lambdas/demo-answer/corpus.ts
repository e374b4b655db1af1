/** One section of the demo service's knowledge base: what the demo answers with. */
export interface CorpusSection {
  /** Stable id, returned as `sectionId` and used by the gold set. */
  readonly id: string;
  /** Short heading; embedded together with the text so that a question naming the topic finds it. */
  readonly title: string;
  /** The answer the demo returns, verbatim. */
  readonly text: string;
}

/**
 * The demo's corpus: short sections on this library's own concepts, so the example app answers questions
 * about the thing it deploys. bin/gold-set.jsonl has one gold question per section; keep them in step.
 */
export const CORPUS: readonly CorpusSection[] = [
  {
    id: 'canary-release',
    title: 'Canary release',
    text: 'A canary release sends a small share of live traffic to the new Lambda version while the current version keeps serving everyone else. If the canary stays healthy for the bake time, the rollout shifts the rest of the traffic; if it misbehaves, only a few users ever saw it.',
  },
  {
    id: 'lambda-alias',
    title: 'Lambda alias and weighted routing',
    text: 'A Lambda alias is a named pointer to a function version. Callers invoke the alias, never a version number, and a weighted alias splits invocations between two versions through AdditionalVersionWeights, which is how canary traffic is routed without touching API Gateway.',
  },
  {
    id: 'staged-rollout',
    title: 'Staged rollout schedule',
    text: 'The default staged rollout moves traffic in steps of 1, 5, 25, 50 and 100 percent. Before each step a probe runs and the gates are checked, then the alias weight is set and the release bakes. The whole schedule must fit inside the one hour limit of a CodeDeploy hook.',
  },
  {
    id: 'automatic-rollback',
    title: 'Automatic rollback',
    text: 'Rollback happens by itself: when a gate alarm fires or a probe fails twice at the same step, the routing weight is reset to the old version and CodeDeploy marks the deployment Failed, so CloudFormation rolls the stack back without anyone being paged first.',
  },
  {
    id: 'delta-s',
    title: 'Semantic drift ΔS',
    text: 'ΔS measures semantic drift between two texts as one minus the cosine similarity of their unit normalised embeddings. Zero means the same meaning; below 0.40 is stable, 0.40 to 0.60 transitional, and 0.60 or more is a risk. The release gate requires a median ΔS of at most 0.45 on the gold set.',
  },
  {
    id: 'lambda-state',
    title: 'λ state of a gold question',
    text: 'The λ state classifies the sequence of ΔS values a gold question produces over its paraphrases and seeds: convergent when the values settle, recursive when they swing back and forth, divergent when the mean creeps up, and chaotic when it jumps. A flip is a question whose λ state changes between the current and the new version.',
  },
  {
    id: 'coverage',
    title: 'Coverage of the target section',
    text: 'Coverage is the share of the words of the expected target section that appear in an answer. A canary must keep coverage at or above 0.70 on the probe questions, otherwise it is dropping the facts users came for even when its wording still sounds right.',
  },
  {
    id: 'gold-set',
    title: 'Gold set of probe questions',
    text: 'The gold set is a JSON Lines file of probe questions. Each line has an id, a question, at least two paraphrases, the target section that holds the expected answer, and an optional topic. Fifty to two hundred questions give a stable median; a malformed line fails cdk synth with its line number.',
  },
  {
    id: 'provisioned-concurrency',
    title: 'Provisioned concurrency warm-up',
    text: 'Provisioned concurrency keeps execution environments initialised on the alias so a new version does not greet users with cold starts. The warm gate waits until provisioned concurrency is READY on the new version and sends warm pings tagged x-warm, which telemetry leaves out of the latency SLO.',
  },
  {
    id: 'cold-start',
    title: 'Cold starts',
    text: 'A cold start happens when Lambda must create a fresh execution environment, download the code and run its initialisation before handling a request. Cold starts inflate tail latency, so the guardrails compare warm latency between canary and control and cap the cold start share at five percent after warm-up.',
  },
  {
    id: 'shadow-traffic',
    title: 'Shadow traffic mirroring',
    text: 'Shadow traffic replays a sample of real requests to a read only shadow function off the user path. The live handler logs sampled requests, a log subscription feeds a mirror dispatcher, and the shadow answers are scored against the live ones without any user ever seeing them.',
  },
  {
    id: 'idempotency',
    title: 'Idempotency keys in DynamoDB',
    text: 'Idempotency makes a retried request return the stored result instead of running twice. The makeIdempotent wrapper records each request key in a DynamoDB table, and records are kept for the release window plus twenty four hours so retries that straddle a rollout still match.',
  },
  {
    id: 'codedeploy-hooks',
    title: 'CodeDeploy lifecycle hooks',
    text: 'CodeDeploy runs a BeforeAllowTraffic hook before it shifts any traffic and an AfterAllowTraffic hook once the new version has it all. Each hook is a Lambda function that must report Succeeded or Failed with PutLifecycleEventHookExecutionStatus within one hour, or the deployment fails.',
  },
  {
    id: 'release-gates',
    title: 'Release gates and alarms',
    text: 'Release gates turn typed thresholds into CloudWatch alarms that CodeDeploy watches during the shift: error rate, p95 latency against the control version, ΔS, coverage and λ flips. Any gate in alarm stops the rollout, and the alarm name tells you which threshold was crossed.',
  },
  {
    id: 'latency-judge',
    title: 'Latency judge',
    text: 'The latency judge compares warm response times of the new and current versions with a one sided Mann-Whitney U test, after Netflix Kayenta. It fails the release only when the new version is significantly slower and its p95 is more than 1.25 times the current p95; with too few samples it reports insufficient data.',
  },
  {
    id: 'blue-green',
    title: 'Blue-green switchover',
    text: 'A blue-green switchover moves all traffic from the old version to the new one at once, then holds and watches the alarms for a while. Because the old version stays deployed, rolling back is one alias update, and the target is a rollback within two minutes.',
  },
  {
    id: 'release-dashboard',
    title: 'Release dashboard',
    text: 'Each release gets one CloudWatch dashboard that plots the traffic weight timeline, every gate decision, and canary against control side by side for errors, latency and ΔS, so an engineer can see at a glance why a rollout stopped.',
  },
  {
    id: 'safety-net',
    title: 'Safety net after a stopped deployment',
    text: 'A safety net listens for the deployment group FAILURE and STOP events from EventBridge and resets any leftover alias weights, so a stopped or failed deployment never leaves a slice of users stuck on a version that was rejected.',
  },
];

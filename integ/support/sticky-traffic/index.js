// The sticky-cohorts integ test's traffic generator: invoked asynchronously before a stack update, it calls the live
// alias as `tenants` users would (an HTTP event with `x-tenant-id: tenant-<i>`, round robin) at `rps` for `seconds`,
// and records which release answered each tenant, in order. A tenant "moved back" when a release it had left answers
// it again (A, B, A). Every minute it publishes, in namespace `IntegSticky`, the tenants moved back so far and the
// tenants the new release (`newRelease`) has served, so that the assertions can read them (metric maximum).
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const { CloudWatchClient, PutMetricDataCommand } = require('@aws-sdk/client-cloudwatch');

const lambda = new LambdaClient({});
const cloudwatch = new CloudWatchClient({});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.handler = async (event, context) => {
  const { functionName, alias, newRelease, tenants = 200, rps = 10, seconds = 840 } = event;
  const end = Date.now() + Math.min(seconds * 1000, context.getRemainingTimeInMillis() - 15_000);
  const seen = new Map(); // tenant → releases in the order they first answered, runs collapsed
  const counts = { sent: 0, functionErrors: 0, invokeErrors: 0 };
  const movedBack = () => [...seen.values()].filter((runs) => new Set(runs).size < runs.length).length;
  const onNew = () => [...seen.values()].filter((runs) => runs.includes(newRelease)).length;
  const publish = () => cloudwatch.send(new PutMetricDataCommand({
    Namespace: 'IntegSticky',
    MetricData: [
      { MetricName: 'TenantsMovedBack', Value: movedBack(), Unit: 'Count', Dimensions: [{ Name: 'Release', Value: newRelease }] },
      { MetricName: 'TenantsOnNewRelease', Value: onNew(), Unit: 'Count', Dimensions: [{ Name: 'Release', Value: newRelease }] },
    ],
  })).catch((error) => console.log(JSON.stringify({ message: 'publish failed', error: String(error) })));
  let next = 0;
  let lastPublish = Date.now();
  while (Date.now() < end) {
    const started = Date.now();
    const tenant = `tenant-${next++ % tenants}`;
    try {
      const r = await lambda.send(new InvokeCommand({
        FunctionName: functionName, Qualifier: alias, Payload: Buffer.from(JSON.stringify({ headers: { 'x-tenant-id': tenant } })),
      }));
      if (r.FunctionError) counts.functionErrors++;
      else {
        const release = JSON.parse(JSON.parse(Buffer.from(r.Payload).toString('utf8')).body).release;
        const runs = seen.get(tenant) ?? [];
        if (runs[runs.length - 1] !== release) runs.push(release);
        seen.set(tenant, runs);
      }
    } catch {
      counts.invokeErrors++;
    }
    counts.sent++;
    if (Date.now() - lastPublish >= 60_000) {
      lastPublish = Date.now();
      await publish();
    }
    await sleep(Math.max(0, 1000 / rps - (Date.now() - started)));
  }
  await publish();
  console.log(JSON.stringify({ message: 'integ sticky traffic done', ...counts, tenantsMovedBack: movedBack(), tenantsOnNewRelease: onNew() }));
  return counts;
};

// The integ suite's traffic generator: invoked asynchronously by an assertion before a stack update, it calls the
// alias as users would (`{ question, live: true }`, never `seed`, so the demo's bad-live release fails these calls)
// at a steady rate with a few workers, for `seconds` or until its own time is nearly out. Live traffic is what the
// staged machine's canary-vs-control gates and the blue-green hold's 5xx stop rule judge.
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

const client = new LambdaClient({});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.handler = async (event, context) => {
  const { functionName, alias, question, rps = 10, workers = 2, seconds = 840 } = event;
  const end = Date.now() + Math.min(seconds * 1000, context.getRemainingTimeInMillis() - 10_000);
  const interval = (1000 * workers) / rps;
  const payload = Buffer.from(JSON.stringify({ question, live: true }));
  const counts = { sent: 0, functionErrors: 0, invokeErrors: 0 };
  const worker = async () => {
    while (Date.now() < end) {
      const started = Date.now();
      try {
        const r = await client.send(new InvokeCommand({ FunctionName: functionName, Qualifier: alias, Payload: payload }));
        if (r.FunctionError) counts.functionErrors++;
      } catch {
        counts.invokeErrors++;
      }
      counts.sent++;
      await sleep(Math.max(0, interval - (Date.now() - started)));
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  console.log(JSON.stringify({ message: 'integ traffic done', ...counts }));
  return counts;
};

// Shared by the staged gate (lambdas/staged/gate.ts) and the blue-green worker (lambdas/blue-green/worker.ts);
// esbuild bundles it into each. Not a handler (scripts/bundle.mjs skips lambdas/shared).
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';

/** A CloudWatch alarm's state, as the gates judge it. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * The state of each named alarm, in the order of `names` (metric and composite alarms; DescribeAlarms takes at
 * most 100 names per call). An alarm that no longer exists cannot say ALARM: it is reported as
 * INSUFFICIENT_DATA, not failed.
 */
export async function readAlarms(client: CloudWatchClient, names: readonly string[]): Promise<Array<{ name: string; state: AlarmState }>> {
  if (names.length === 0) return [];
  const states = new Map<string, AlarmState>();
  for (let i = 0; i < names.length; i += 100) {
    const page = await client.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
      if (alarm.AlarmName) states.set(alarm.AlarmName, (alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmState);
    }
  }
  return names.map((name) => ({ name, state: states.get(name) ?? 'INSUFFICIENT_DATA' }));
}

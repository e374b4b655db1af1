// `abort` of a blue-green, canary, linear or all-at-once alias: CodeDeploy's own StopDeployment on the deployment in
// progress, with autoRollbackEnabled, so that CodeDeploy moves the alias back by a rollback deployment of its own
// (register CD-20). The deployment is found as for a staged alias (every non-final status, `--deployment` checked).
// Giving it twice is a no-op: a deployment already Stopped (or Failed with a rollback), or CodeDeploy's rollback of one, is said so (exit 0) and
// never stopped again (stopping the rollback would leave the alias where it is). `--wait` polls GetDeployment until
// the stopped deployment has ended and the rollback deployment CodeDeploy names in its rollbackInfo has Succeeded.
import { randomUUID } from 'crypto';
import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { call, errorName, OperateClients } from './aws';
import type { OperateOptions } from './args';
import { Deployed, deployedResources, getDeployment, inProgressIds, IN_PROGRESS, lastAttempted, onlyOne, wantedDeployment } from './rollout';
import type { OperateIo } from './status';
import { OperateTarget } from './target';

/** Seconds between two reads of the deployments while `--wait` waits. */
export const STOP_POLL_SECONDS = 5;

/** The creators of a rollback deployment (register CD-9). */
const ROLLBACK_CREATORS = ['codeDeployRollback', 'CloudFormationRollback'];

type Found = Awaited<ReturnType<typeof getDeployment>>;
const inProgress = (status: string) => (IN_PROGRESS as string[]).includes(status);
const iso = (at: Date | undefined) => (at ? at.toISOString().replace(/\.\d{3}Z$/, 'Z') : '?');

/** The audit line of a stop: who, which alias and deployment, CodeDeploy's answer, an id and the reason. */
export function stopAuditLine(who: string, target: OperateTarget, deploymentId: string, answer: string, id: string, at: number, reason?: string): string {
  return `audit: ${who} gave abort to ${target.alias.path} (deployment ${deploymentId}, CodeDeploy StopDeployment with autoRollbackEnabled, answered ${answer}): `
    + `command ${id} at ${new Date(at).toISOString()}${reason ? `, reason "${reason}"` : ''}`;
}

/** The deployment `abort` is about: `--deployment`'s, the one in progress, else the group's last attempted one. */
async function deploymentOf(clients: OperateClients, deployed: Deployed, options: OperateOptions): Promise<Found | undefined> {
  if (options.deployment !== undefined) return wantedDeployment(clients, deployed, options.deployment);
  const id = onlyOne(deployed, await inProgressIds(clients, deployed)) ?? (await lastAttempted(clients, deployed))?.deploymentId;
  return id === undefined ? undefined : getDeployment(clients, id);
}

/**
 * An ended deployment (or CodeDeploy's rollback of one): exit 0 when it is what an abort leaves, Stopped, or Failed
 * with a rollback CodeDeploy names (which of the two a stopped Lambda deployment shows is undocumented, register
 * CD-20); the rollback is then said, and waited for with --wait. 1 when it Succeeded, or failed with no rollback.
 */
async function ended(clients: OperateClients, target: OperateTarget, found: Found, options: OperateOptions, io: OperateIo): Promise<number> {
  const { view } = found;
  if (view.status !== 'Stopped' && !(view.status === 'Failed' && found.rollback?.rollbackDeploymentId)) {
    io.print(`${target.alias.path}: deployment ${view.id} ended ${view.status}${view.endTime ? ` at ${iso(view.endTime)}` : ''}${view.error ? ` (${view.error})` : ''}: nothing to abort`);
    return 1;
  }
  io.print(`already ended: deployment ${view.id} is ${view.status}${view.endTime ? ` (ended ${iso(view.endTime)})` : ''}; not stopped again`);
  return options.wait ? waitForRollback(clients, view.id, options, io) : rollbackLine(clients, found, io).then(() => 0);
}

/** Says where CodeDeploy's rollback of a stopped deployment is, when its rollbackInfo names one. */
async function rollbackLine(clients: OperateClients, found: Found, io: OperateIo): Promise<void> {
  const id = found.rollback?.rollbackDeploymentId;
  if (id) io.print(`  CodeDeploy's rollback: deployment ${id}, ${(await getDeployment(clients, id)).view.status}`);
  else io.print(`  no rollback deployment named yet${found.rollback?.rollbackMessage ? ` (${found.rollback.rollbackMessage})` : ''}; status shows the alias's deployments`);
}

/** Runs `abort` on a non-staged alias; returns the exit code. */
export async function stopRollout(clients: OperateClients, target: OperateTarget, options: OperateOptions, io: OperateIo): Promise<number> {
  const deployed = await deployedResources(clients, target);
  let found = await deploymentOf(clients, deployed, options);
  if (!found) {
    io.print(`${target.alias.path}: no rollout is in progress on deployment group ${deployed.key}, and it has no deployment yet: nothing to abort`);
    return 1;
  }
  // CodeDeploy's own rollback of a deployment that failed or was stopped: never stopped, its cause said instead.
  const cause = found.rollback?.rollbackTriggeringDeploymentId;
  if (cause && cause !== found.view.id) {
    io.print(`deployment ${found.view.id} (${found.view.status}) is CodeDeploy's rollback of deployment ${cause}: not stopped (stopping it would leave the alias where it is)`);
    found = await getDeployment(clients, cause);
  } else if (ROLLBACK_CREATORS.includes(found.view.creator ?? '')) {
    io.print(`deployment ${found.view.id} (${found.view.status}) is a rollback (created by ${found.view.creator}) that names no deployment it rolls back: not stopped; nothing to abort`);
    return 1;
  }
  if (!inProgress(found.view.status)) return ended(clients, target, found, options, io);
  const deploymentId = found.view.id;
  const identity = await call(clients, 'STS GetCallerIdentity', (o) => clients.sts.send(new GetCallerIdentityCommand({}), o));
  const at = io.now();
  let answer: string;
  try {
    const stopped = await call(clients, `CodeDeploy StopDeployment (${deploymentId})`, (o) => clients.codedeploy.send(
      new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }), o), ['DeploymentAlreadyCompletedException']);
    answer = `${stopped.status ?? 'no status'}${stopped.statusMessage ? ` "${stopped.statusMessage}"` : ''}`;
  } catch (error) {
    // Only DeploymentAlreadyCompletedException gets here: it ended between the read and the stop; read it again.
    io.print(`deployment ${deploymentId} completed before the stop reached it (${errorName(error)})`);
    return ended(clients, target, await getDeployment(clients, deploymentId), options, io);
  }
  io.print(stopAuditLine(identity.Arn ?? 'unknown', target, deploymentId, answer, randomUUID(), at, options.reason));
  if (!options.wait) {
    io.print('stopping: CodeDeploy ends the deployment and rolls the alias back by a new deployment; status shows it, or give --wait');
    return 0;
  }
  return waitForRollback(clients, deploymentId, options, io);
}

/**
 * Polls until the stopped deployment has ended and CodeDeploy's rollback deployment (its rollbackInfo's
 * rollbackDeploymentId) has Succeeded: 0; the deployment Succeeded after all, the rollback failed, or --timeout: 1.
 */
async function waitForRollback(clients: OperateClients, deploymentId: string, options: OperateOptions, io: OperateIo): Promise<number> {
  io.print(`waiting up to ${options.timeout} s for deployment ${deploymentId} to end and its rollback to succeed…`);
  const until = io.now() + options.timeout * 1000;
  let where = '';
  for (;;) {
    const found = await getDeployment(clients, deploymentId);
    const rollbackId = found.rollback?.rollbackDeploymentId;
    if (found.view.status === 'Succeeded') {
      io.print(`deployment ${deploymentId} Succeeded before the stop took effect: nothing was rolled back`);
      return 1;
    }
    if (inProgress(found.view.status)) where = `deployment ${deploymentId} is still ${found.view.status}`;
    else if (!rollbackId) where = `deployment ${deploymentId} is ${found.view.status}, and names no rollback deployment yet${found.rollback?.rollbackMessage ? ` (${found.rollback.rollbackMessage})` : ''}`;
    else {
      const rollback = (await getDeployment(clients, rollbackId)).view;
      if (rollback.status === 'Succeeded') {
        io.print(`rolled back: deployment ${deploymentId} is ${found.view.status}, and CodeDeploy's rollback ${rollbackId} Succeeded${rollback.endTime ? ` at ${iso(rollback.endTime)}` : ''}`);
        return 0;
      }
      if (!inProgress(rollback.status)) {
        io.print(`the rollback ${rollbackId} of deployment ${deploymentId} ended ${rollback.status}${rollback.error ? ` (${rollback.error})` : ''}: the alias may not be back on its previous version; check it`);
        return 1;
      }
      where = `deployment ${deploymentId} is ${found.view.status}, its rollback ${rollbackId} ${rollback.status}`;
    }
    if (io.now() >= until) {
      io.print(`not rolled back within ${options.timeout} s: ${where}; status shows where it is`);
      return 1;
    }
    await io.sleep(Math.min(STOP_POLL_SECONDS * 1000, Math.max(0, until - io.now())));
  }
}

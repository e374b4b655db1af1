// Which release answered a replay: the RELEASE_ID in the environment of the shadow version that ran it, read
// with GetFunctionConfiguration. A published version never changes, so its release is read once per process;
// $LATEST and an alias can move under a running dispatcher, so theirs is read again after a minute.
import { RELEASE_ID_ENV } from 'cdk-rollout-guardrails-runtime/contract';

/** Reads the environment variables of the shadow function at `qualifier` (a version, an alias, or none: what the dispatcher invokes). */
export type ReadEnvironment = (qualifier: string | undefined) => Promise<Record<string, string> | undefined>;

/** How long the release of something that can move ($LATEST, an alias, the invoke target) is kept. */
export const MOVABLE_RELEASE_TTL_MS = 60_000;
/** How long a failed read is remembered before the next replay tries again (GetFunctionConfiguration shares the account's control-plane rate). */
export const FAILED_READ_RETRY_MS = 30_000;

/** The release of a replay, or why there is none. */
export type ReleaseAnswer = { readonly releaseId: string } | { readonly releaseId?: undefined; readonly reason: 'no-release-id' | 'lookup-failed'; readonly error?: string };

interface Entry {
  readonly answer: Promise<ReleaseAnswer>;
  expires: number;
}

/** A cache of releases by qualifier for the life of the process; concurrent replays of one version share one read. */
export class ReleaseLookup {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly read: ReadEnvironment, private readonly now: () => number = Date.now) {}

  /**
   * The release of the version that answered (`executedVersion`, as Invoke returned it), or, when the replay got
   * no answer (a timeout, a failed invoke), of what the dispatcher invokes, as it stands now.
   */
  public releaseOf(executedVersion: string | undefined): Promise<ReleaseAnswer> {
    const key = executedVersion ?? '';
    const cached = this.entries.get(key);
    if (cached && cached.expires > this.now()) return cached.answer;
    const published = executedVersion !== undefined && /^\d+$/.test(executedVersion);
    const entry: Entry = {
      // Never rejects: a read that fails is an answer too, remembered for a while so that a burst of replays does not retry it.
      answer: Promise.resolve().then(() => this.read(executedVersion)).then(
        (variables): ReleaseAnswer => {
          const releaseId = variables?.[RELEASE_ID_ENV];
          return typeof releaseId === 'string' && releaseId !== '' ? { releaseId } : { reason: 'no-release-id' };
        },
        (error): ReleaseAnswer => {
          entry.expires = Math.min(entry.expires, this.now() + FAILED_READ_RETRY_MS);
          return { reason: 'lookup-failed', error: `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}` };
        },
      ),
      expires: this.now() + (published ? Infinity : MOVABLE_RELEASE_TTL_MS),
    };
    this.entries.set(key, entry);
    return entry.answer;
  }
}

/** The function's ARN without a version or alias (`arn:aws:lambda:<region>:<account>:function:<name>`). */
export function unqualifiedArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 && parts[5] === 'function' ? parts.slice(0, 7).join(':') : arn;
}

/** The version or alias a function ARN names; undefined for an unqualified ARN or a bare name. */
export function qualifierOf(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length > 7 && parts[5] === 'function' ? parts[7] : undefined;
}

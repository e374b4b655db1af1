// What the rehearsals keep for the process: a rehearsal asks the same gold questions of the same simulated
// versions run after run, and both the demo service and the probe's embedder are deterministic, so a kept answer
// or vector is the one they would compute again: the scores and decisions do not change, only the time the
// rehearsal takes.
import { createDemoHandler } from '../lambdas/demo-answer';
import { Embedder, HashedNgramEmbedder } from '../packages/runtime/src/probe/embedder';

export class MemoEmbedder implements Embedder {
  private readonly vectors = new Map<string, number[]>();
  private readonly inner: Embedder;

  constructor(inner: Embedder = new HashedNgramEmbedder()) {
    this.inner = inner;
  }

  public async embed(texts: string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => !this.vectors.has(t)))];
    if (missing.length > 0) {
      const computed = await this.inner.embed(missing);
      missing.forEach((t, i) => this.vectors.set(t, computed[i]));
    }
    return texts.map((t) => this.vectors.get(t)!);
  }
}

/** One per process: every rehearsal of the run shares it. */
export const REHEARSAL_EMBEDDER = new MemoEmbedder();

const builds = new Map<string, (request: unknown) => Promise<unknown>>();

/** The demo service built with these options, each request's answer kept (by the request's JSON) for the process. */
export function demoBuild(options: { release: string; drift?: boolean }): (request: unknown) => Promise<unknown> {
  const key = JSON.stringify(options);
  let build = builds.get(key);
  if (!build) {
    const handler = createDemoHandler(options);
    const answers = new Map<string, unknown>();
    build = async (request) => {
      const text = JSON.stringify(request);
      if (!answers.has(text)) answers.set(text, await handler(request as never));
      return answers.get(text);
    };
    builds.set(key, build);
  }
  return build;
}

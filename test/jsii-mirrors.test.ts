// The jsii-visible interfaces that mirror the runtime package's contract (jsii cannot reference the runtime
// package's types, which have no jsii assembly) must keep the same shape: `npm run typecheck` fails here if
// one drifts. Both directions are checked, readonly arrays and the embedder's enum aside.
import type { GoldItem as RuntimeGoldItem, ProbeGateConfig, WarmGateConfig as RuntimeWarmGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { DeltaSProbeGateConfig, GoldItem, NoDataAction, ProbeEmbedderKind, StagedRolloutMetric, WarmGateConfig } from '../lib';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('jsii mirrors of the runtime contract', () => {
  test('have the runtime shapes (checked by the type checker) and the same strings', () => {
    const gates: Same<DeltaSProbeGateConfig, ProbeGateConfig> = true;
    const warm: Same<WarmGateConfig, RuntimeWarmGateConfig> = true;
    const gold: Same<GoldItem, Omit<RuntimeGoldItem, 'paraphrases'> & { readonly paraphrases: string[] }> = true;
    expect([gates, warm, gold]).toEqual([true, true, true]);
    expect(Object.values(ProbeEmbedderKind)).toEqual(['hashed', 'bedrock']);
    expect(Object.values(NoDataAction)).toEqual(['fail', 'pass']);
    expect(Object.values(StagedRolloutMetric)).toEqual(['TrafficWeight', 'StepDecision', 'GatesFailed', 'GatePassed', 'ShadowPromotion']);
  });
});

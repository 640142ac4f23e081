// The promotion rule, kept pure so it is tested without a database.

/**
 * The prefix of the popularity baseline's metrics in a version's metrics (`baseline.ndcg@10`): measured
 * by the trainer on the same split, the floor a candidate must beat to replace a champion of another
 * feature schema (decidePromotion).
 */
export const BASELINE_METRIC_PREFIX = 'baseline.';

/** Outcome of `promoteIfBetter`, with the figures it was based on. */
export interface PromotionDecision {
  readonly promoted: boolean;
  readonly version: string;
  readonly metricName: string;
  readonly splitId: string;
  readonly candidateValue: number;
  /** The champion before the decision, and its value of the metric on the same split (if known). */
  readonly previousChampion: { readonly version: string; readonly value: number | undefined } | undefined;
  readonly reason: string;
}

/** What the rule needs to know about the champion on the candidate's split. */
export interface ChampionOnSplit {
  readonly version: string;
  /** undefined when the champion was never evaluated on that split. */
  readonly value: number | undefined;
  /** The ranking features its ranker takes (RANKING_FEATURE_SCHEMA of the code that trained it). */
  readonly featureSchema: string;
}

/** What the rule needs to know about the candidate. */
export interface PromotionCandidate {
  readonly version: string;
  readonly splitId: string;
  readonly value: number;
  readonly featureSchema: string;
  /** The popularity baseline's value of the metric on the same split (undefined: not measured). */
  readonly baselineValue: number | undefined;
}

/**
 * Promote when there is no champion, or when the candidate is strictly better than the champion on
 * the same split; a champion that was not evaluated on that split cannot be beaten (unknown ≠ worse).
 * A champion whose ranker takes other features than the candidate's (the code's ranking features
 * changed since it was trained) is no bar: the recommenders of the candidate's code build features it
 * cannot rank, so scoring refuses every matrix and every answer is degraded, and the trainer cannot
 * evaluate it on this split either. The candidate then replaces it when it beats the popularity
 * baseline on its split (or when no baseline was measured).
 */
export function decidePromotion(candidate: PromotionCandidate, metricName: string, champion: ChampionOnSplit | undefined): PromotionDecision {
  const base = { version: candidate.version, metricName, splitId: candidate.splitId, candidateValue: candidate.value, previousChampion: champion && { version: champion.version, value: champion.value } };
  if (!champion) return { ...base, promoted: true, reason: 'no champion yet' };
  if (champion.featureSchema !== candidate.featureSchema) {
    const unusable = `champion ${champion.version} ranks another feature schema than this model's, so it cannot rank the features this code builds`;
    if (candidate.baselineValue === undefined) return { ...base, promoted: true, reason: `${unusable} (no popularity baseline measured)` };
    if (candidate.value > candidate.baselineValue) {
      return { ...base, promoted: true, reason: `${unusable}; ${metricName} ${format(candidate.value)} > popularity baseline's ${format(candidate.baselineValue)}` };
    }
    return { ...base, promoted: false, reason: `${unusable}, but ${metricName} ${format(candidate.value)} is not better than the popularity baseline's ${format(candidate.baselineValue)}` };
  }
  if (champion.value === undefined) {
    return { ...base, promoted: false, reason: `champion ${champion.version} has no ${metricName} on split ${candidate.splitId}` };
  }
  if (candidate.value > champion.value) {
    return { ...base, promoted: true, reason: `${metricName} ${format(candidate.value)} > champion's ${format(champion.value)}` };
  }
  return { ...base, promoted: false, reason: `${metricName} ${format(candidate.value)} is not better than champion's ${format(champion.value)}` };
}

function format(value: number): string {
  return value.toFixed(4);
}

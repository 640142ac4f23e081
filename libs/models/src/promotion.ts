// The promotion rule, kept pure so it is tested without a database.

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
}

/**
 * Promote when there is no champion, or when the candidate is strictly better than the champion on
 * the same split; a champion that was not evaluated on that split cannot be beaten (unknown ≠ worse).
 */
export function decidePromotion(
  candidate: { readonly version: string; readonly splitId: string; readonly value: number },
  metricName: string,
  champion: ChampionOnSplit | undefined,
): PromotionDecision {
  const base = { version: candidate.version, metricName, splitId: candidate.splitId, candidateValue: candidate.value, previousChampion: champion };
  if (!champion) return { ...base, promoted: true, reason: 'no champion yet' };
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

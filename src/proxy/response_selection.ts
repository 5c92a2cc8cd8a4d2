/**
 * Choosing the response a forking proxy sends upstream when every branch has a final answer
 * (RFC 3261 §16.7 step 6): a 6xx wins; otherwise the lowest class; within 4xx the codes the RFC
 * names as informative (401, 407, 415, 420, 484) are preferred; locally generated timeouts and
 * 503s rank last in their class, like Kamailio's t_pick_branch.
 */

export interface BranchOutcome {
  status: number;
  /** True when the proxy generated it (timeout, transport error, cancel), not a received reply. */
  local: boolean;
}

function rank(o: BranchOutcome): number {
  const cls = Math.floor(o.status / 100);
  // Class order: 6xx, 2xx, 3xx, 4xx, 5xx.
  const classRank = cls === 6 ? 0 : cls === 2 ? 1 : cls === 3 ? 2 : cls === 4 ? 3 : 4;
  let within = 2;
  if (
    cls === 4 &&
    (o.status === 401 || o.status === 407 || o.status === 415 || o.status === 420 || o.status === 484)
  ) {
    within = 1;
  }
  if (o.local || o.status === 503) within = 3;
  return classRank * 10 + within;
}

/** Index of the best outcome (earliest among equals), -1 when the list is empty. */
export function selectBest(outcomes: readonly (BranchOutcome | undefined)[]): number {
  let best = -1;
  let bestRank = Number.POSITIVE_INFINITY;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o === undefined) continue;
    const r = rank(o);
    if (r < bestRank) {
      best = i;
      bestRank = r;
    }
  }
  return best;
}

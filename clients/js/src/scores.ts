/** The label with the highest score (the first of equals, in the scores' order). */
export function topLabel(scores: Record<string, number>): string {
  return Object.keys(scores).reduce((a, b) => (scores[a] >= scores[b] ? a : b));
}

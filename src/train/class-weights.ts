/** Balanced class weights (scikit-learn's "balanced", as the paper uses): n / (classes * count). */
export function balancedClassWeights(labels: ArrayLike<number>, classes: number): Float32Array {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const present = counts.filter((c) => c > 0).length;
  return Float32Array.from(counts, (c) => (c === 0 ? 0 : labels.length / (present * c)));
}

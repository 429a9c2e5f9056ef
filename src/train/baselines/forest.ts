/**
 * A random forest of CART trees (Breiman): each tree grows on a bootstrap
 * sample, each split picks the best Gini threshold among sqrt(d) features
 * drawn afresh at that node, trees grow until their leaves are pure, and the
 * forest averages the leaves' class shares (as scikit-learn does).
 *
 * Written here because ml-random-forest, the npm library, draws features
 * once per tree rather than per split and scans every threshold against
 * every sample: 20 trees on EmoDB's 16 640-value spectrograms took 25 s
 * there, where these 300 take a few seconds.
 */
import { createRandom, type Random } from '../random.ts';

export interface ForestOptions {
  trees: number;
  /** Features tried at each split (default: the square root of their count). */
  featuresPerSplit?: number;
  /** Nodes with fewer samples become leaves. */
  minSamplesSplit: number;
  seed: number;
}

export const DEFAULT_FOREST: ForestOptions = { trees: 300, minSamplesSplit: 2, seed: 42 };

/** A tree in flat arrays; a node with feature -1 is a leaf whose class shares start at leafShares[node * classes]. */
interface Tree {
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  shares: Float32Array;
}

export interface Forest {
  classes: number;
  trees: Tree[];
}

/** rows: equal-length feature vectors; labels: class indices below `classes`. */
export function trainForest(rows: Float32Array[], labels: ArrayLike<number>, classes: number, options: ForestOptions = DEFAULT_FOREST): Forest {
  const random = createRandom(options.seed);
  const d = rows[0].length;
  const mtry = Math.max(1, Math.min(d, options.featuresPerSplit ?? Math.floor(Math.sqrt(d))));
  const trees: Tree[] = [];
  for (let t = 0; t < options.trees; t++) {
    const sample = Int32Array.from({ length: rows.length }, () => Math.floor(random() * rows.length));
    trees.push(growTree(rows, labels, classes, sample, mtry, options.minSamplesSplit, random));
  }
  return { classes, trees };
}

/** Mean class shares of the trees' leaves for one row. */
export function forestProbabilities(forest: Forest, row: Float32Array): Float32Array {
  const out = new Float32Array(forest.classes);
  for (const tree of forest.trees) {
    let node = 0;
    while (tree.feature[node] >= 0) node = row[tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
    for (let k = 0; k < forest.classes; k++) out[k] += tree.shares[node * forest.classes + k] / forest.trees.length;
  }
  return out;
}

interface Split {
  feature: number;
  /** A float32 value, so that the stored tree splits exactly as the search counted. */
  threshold: number;
  impurity: number;
}

function growTree(
  rows: Float32Array[],
  labels: ArrayLike<number>,
  classes: number,
  sample: Int32Array,
  mtry: number,
  minSamplesSplit: number,
  random: Random,
): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const shares: number[] = [];
  const d = rows[0].length;
  const pool = Int32Array.from({ length: d }, (_, i) => i);
  const values = new Float64Array(sample.length);
  const order = new Int32Array(sample.length);
  const counts = new Float64Array(classes);

  const newNode = () => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    for (let k = 0; k < classes; k++) shares.push(0);
    return feature.length - 1;
  };
  const stack: { node: number; members: Int32Array }[] = [{ node: newNode(), members: sample }];
  while (stack.length > 0) {
    const { node, members } = stack.pop()!;
    counts.fill(0);
    for (const m of members) counts[labels[m]]++;
    const pure = counts.some((c) => c === members.length);
    const split = pure || members.length < minSamplesSplit ? undefined : bestSplit(rows, labels, classes, members, mtry, pool, random, values, order, counts);
    if (!split) {
      for (let k = 0; k < classes; k++) shares[node * classes + k] = counts[k] / members.length;
      continue;
    }
    const goesLeft = members.filter((m) => rows[m][split.feature] <= split.threshold);
    const goesRight = members.filter((m) => rows[m][split.feature] > split.threshold);
    feature[node] = split.feature;
    threshold[node] = split.threshold;
    left[node] = newNode();
    right[node] = newNode();
    stack.push({ node: left[node], members: goesLeft }, { node: right[node], members: goesRight });
  }
  return {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    shares: Float32Array.from(shares),
  };
}

/** The split of lowest weighted Gini impurity among mtry features drawn without replacement, or none that separates anything. */
function bestSplit(
  rows: Float32Array[],
  labels: ArrayLike<number>,
  classes: number,
  members: Int32Array,
  mtry: number,
  pool: Int32Array,
  random: Random,
  values: Float64Array,
  order: Int32Array,
  totals: Float64Array,
): Split | undefined {
  const n = members.length;
  const leftCounts = new Float64Array(classes);
  let best: Split | undefined;
  for (let f = 0; f < mtry; f++) {
    // Partial Fisher-Yates: the first mtry entries of the pool become a fresh draw.
    const j = f + Math.floor(random() * (pool.length - f));
    [pool[f], pool[j]] = [pool[j], pool[f]];
    const feature = pool[f];
    for (let i = 0; i < n; i++) {
      values[i] = rows[members[i]][feature];
      order[i] = i;
    }
    const sorted = order.subarray(0, n).sort((a, b) => values[a] - values[b]);
    leftCounts.fill(0);
    let leftSquares = 0;
    let rightSquares = 0;
    for (let k = 0; k < classes; k++) rightSquares += totals[k] * totals[k];
    for (let i = 0; i < n - 1; i++) {
      const k = labels[members[sorted[i]]];
      const right = totals[k] - leftCounts[k];
      leftSquares += 2 * leftCounts[k] + 1;
      rightSquares -= 2 * right - 1;
      leftCounts[k]++;
      const here = values[sorted[i]];
      const next = values[sorted[i + 1]];
      if (here === next) continue;
      const nl = i + 1;
      const nr = n - nl;
      // n * weighted Gini = nl (1 - Σ l²/nl²) + nr (1 - Σ r²/nr²) = n - Σl²/nl - Σr²/nr.
      const impurity = n - leftSquares / nl - rightSquares / nr;
      if (best && impurity >= best.impurity - 1e-12) continue;
      // The values are float32, so `here` is exact; a midpoint that rounds up to `next` would move it left.
      const middle = Math.fround((here + next) / 2);
      best = { feature, threshold: middle < next ? middle : here, impurity };
    }
  }
  return best;
}

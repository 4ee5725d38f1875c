// Principal component analysis of a few hundred vectors, enough for a 2-D map: power iteration
// on the centred data (X^T X v without forming the covariance), deflating after each component.

const ITERATIONS = 300;

function dot(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i] * b[i];
  return sum;
}

function normalize(v) {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < v.length; i += 1) v[i] /= norm;
  return norm;
}

/** The top principal direction of the rows of `x` (centred), by power iteration. */
function topDirection(x, dimension) {
  // A fixed, non-symmetric start: the same input always gives the same map.
  let v = Float64Array.from({ length: dimension }, (_, j) => Math.sin(j + 1) + 0.5);
  normalize(v);
  for (let step = 0; step < ITERATIONS; step += 1) {
    const next = new Float64Array(dimension);
    for (const row of x) {
      const weight = dot(row, v);
      for (let j = 0; j < dimension; j += 1) next[j] += weight * row[j];
    }
    if (normalize(next) === 0) return next;
    v = next;
  }
  return v;
}

/**
 * Projects `rows` onto their first two principal components.
 * Returns `{points: [[x, y], ...], explained: [share1, share2]}`, the shares of the total
 * variance each axis explains. Each axis's sign is fixed so its largest coordinate is positive.
 */
export function pca2(rows) {
  const n = rows.length;
  const dimension = rows[0].length;
  const mean = new Float64Array(dimension);
  for (const row of rows) for (let j = 0; j < dimension; j += 1) mean[j] += row[j] / n;
  const x = rows.map((row) => Float64Array.from(row, (value, j) => value - mean[j]));
  const total = x.reduce((sum, row) => sum + dot(row, row), 0);
  const axes = [];
  const explained = [];
  for (let k = 0; k < 2; k += 1) {
    const direction = topDirection(x, dimension);
    const scores = x.map((row) => dot(row, direction));
    const largest = scores.reduce((best, s) => (Math.abs(s) > Math.abs(best) ? s : best), 0);
    const sign = largest < 0 ? -1 : 1;
    axes.push(scores.map((s) => s * sign));
    explained.push(total > 0 ? scores.reduce((sum, s) => sum + s * s, 0) / total : 0);
    // Deflate: remove this component so the next iteration finds the second.
    x.forEach((row, i) => {
      for (let j = 0; j < dimension; j += 1) row[j] -= scores[i] * direction[j];
    });
  }
  return { points: axes[0].map((first, i) => [first, axes[1][i]]), explained };
}

//! Correlation coefficients and their p-values, computed as scipy's `pearsonr` and `spearmanr`
//! compute them.

use super::Correlation;

/// Pearson's r with its two-sided p-value (scipy `pearsonr`; Spearman's rho is this on ranks).
pub(super) fn pearson(x: &[f64], y: &[f64]) -> Correlation {
    let n = x.len() as f64;
    let mean_x = x.iter().sum::<f64>() / n;
    let mean_y = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mean_x, b - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let coefficient = (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0);
    Correlation {
        coefficient,
        p_value: correlation_p_value(coefficient, x.len()),
    }
}

/// Two-sided p-value of a correlation `r` over `n` pairs under no correlation: the Student t test
/// with `n - 2` degrees of freedom, `I_{1-r²}((n-2)/2, 1/2)`.
pub(super) fn correlation_p_value(r: f64, n: usize) -> f64 {
    if r.is_nan() || n < 2 {
        return f64::NAN;
    }
    if n == 2 {
        // Two points always fit a line; scipy reports p = 1.
        return 1.0;
    }
    let df = (n - 2) as f64;
    regularized_incomplete_beta(df / 2.0, 0.5, 1.0 - r * r)
}

/// Ranks starting at 1, ties given their average rank (scipy `rankdata`, method `average`).
pub(super) fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end share ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = average);
        start = end;
    }
    ranks
}

/// The regularised incomplete beta function `I_x(a, b)` (continued fraction, as in Numerical
/// Recipes §6.4), accurate to about 1e-14.
fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = log_front.exp();
    // The continued fraction converges fast only on this side of the mean; use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// Lentz's evaluation of the continued fraction for `I_x(a, b)`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPSILON: f64 = 1e-15;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=500 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    h
}

/// ln Γ(x) for x ≥ 1/2 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-15),
/// the range where the series is accurate without the reflection formula. A correlation's
/// p-value only asks for Γ of (n - 2)/2 ≥ 1/2, of 1/2, and of their sum.
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let t = x + 7.5;
    let series = COEFFICIENTS[1..]
        .iter()
        .enumerate()
        .fold(COEFFICIENTS[0], |sum, (i, c)| {
            sum + c / (x + i as f64 + 1.0)
        });
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 5.0]), [2.5, 4.0, 2.5, 1.0]);
    }

    #[test]
    fn incomplete_beta_matches_closed_forms() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1/2, 1/2) = (2/π) asin(√x).
        for x in [0.01, 0.3, 0.5, 0.77, 0.99] {
            assert!((regularized_incomplete_beta(1.0, 1.0, x) - x).abs() < 1e-13);
            assert!((regularized_incomplete_beta(3.5, 1.0, x) - x.powf(3.5)).abs() < 1e-13);
            let arcsine = 2.0 / std::f64::consts::PI * x.sqrt().asin();
            assert!((regularized_incomplete_beta(0.5, 0.5, x) - arcsine).abs() < 1e-13);
        }
    }
}

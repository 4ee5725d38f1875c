//! Decimal spelling of f32 values exactly as numpy 2's `str(np.float32(v))`, which is what gensim
//! writes in text stores.

use std::fmt::Write as _;

/// Appends `value` as numpy 2's `str(np.float32(value))` spells it, which is what gensim writes:
/// the shortest digits that read back as the same f32 (a tie between two such digit strings goes
/// to the even one, as numpy's Dragon4 does), positional for `1e-4 <= |v| < 1e6` (and 0) with at
/// least one decimal (`1.0`), otherwise scientific with a signed two-digit-minimum exponent and no
/// trailing `.0` (`1e-05`, `1.2345679e+08`); `nan`, `inf`, `-inf`.
pub(super) fn push_numpy_f32(out: &mut String, value: f32) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    let magnitude = value.abs();
    let (digits, exponent) = shortest_digits(magnitude);
    // numpy compares the f32 against long-double bounds, hence the comparison in f64.
    let wide = f64::from(magnitude);
    if magnitude == 0.0 || (1e-4..1e6).contains(&wide) {
        push_positional(out, &digits, exponent);
    } else {
        push_scientific(out, &digits, exponent);
    }
}

/// Shortest round-trip decimal digits of a finite non-negative `value` and the decimal exponent of
/// the first digit (`value ≈ 0.d1d2… × 10^(exponent+1)`), ties resolved to the even digit.
fn shortest_digits(value: f32) -> (Vec<u8>, i32) {
    let (digits, exponent) = split_scientific(&format!("{value:e}"));
    // Rust's shortest-digit search breaks an exact tie upwards, numpy to the even digit. A tie
    // means the exact binary value has exactly one more significant digit, and it is a 5; the
    // cheap one-more-digit rounding below rules most values out before the exact expansion.
    let one_more = format!("{value:.prec$e}", prec = digits.len());
    if !one_more
        .split_once('e')
        .is_some_and(|(m, _)| m.ends_with('5'))
    {
        return (digits, exponent);
    }
    let (exact, exact_exponent) = split_scientific(&format!("{value:.120e}"));
    let exact_len = exact.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    let is_tie = exact_len == digits.len() + 1 && exact[exact_len - 1] == b'5';
    if !is_tie || digits.last().is_some_and(|d| d % 2 == 0) {
        return (digits, exponent);
    }
    // Rust rounds every such tie up (checked for all 4,194,304 of them: the f32s in
    // [2^21, 2^22) ending in .25 or .75), and a tie's digits end in 25 or 75, so the carry never
    // reaches another digit: the even spelling is the exact digits cut one short.
    let truncated = exact[..digits.len()].to_vec();
    if parse_digits(&truncated, exact_exponent) == Some(value) {
        (truncated, exact_exponent)
    } else {
        (digits, exponent)
    }
}

/// Splits Rust's `{:e}` output (`d.ddde±x`, no sign) into its digits and exponent.
fn split_scientific(text: &str) -> (Vec<u8>, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Reads a digit string and exponent back as an f32.
fn parse_digits(digits: &[u8], exponent: i32) -> Option<f32> {
    let mut text = String::from_utf8_lossy(digits).into_owned();
    text.push_str(&format!("e{}", exponent - (digits.len() as i32 - 1)));
    text.parse().ok()
}

/// Positional spelling: `123.456`, `0.00012`, `100.0`.
fn push_positional(out: &mut String, digits: &[u8], exponent: i32) {
    let digit = |i: usize| char::from(digits.get(i).copied().unwrap_or(b'0'));
    if exponent < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            exponent.unsigned_abs() as usize - 1,
        ));
        out.extend(digits.iter().map(|&d| char::from(d)));
        return;
    }
    let int_len = exponent as usize + 1;
    out.extend((0..int_len).map(digit));
    out.push('.');
    if digits.len() > int_len {
        out.extend(digits[int_len..].iter().map(|&d| char::from(d)));
    } else {
        out.push('0');
    }
}

/// Scientific spelling: `1e-05`, `1.2345679e+08`.
fn push_scientific(out: &mut String, digits: &[u8], exponent: i32) {
    let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
    out.push(char::from(*first));
    if !rest.is_empty() {
        out.push('.');
        out.extend(rest.iter().map(|&d| char::from(d)));
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numpy(value: f32) -> String {
        let mut s = String::new();
        push_numpy_f32(&mut s, value);
        s
    }

    #[test]
    fn formats_floats_as_numpy_str() {
        // Expected strings are numpy 2.4's str(np.float32(v)).
        let cases: &[(f32, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "1e-04"),
            (0.00012345, "0.00012345"),
            (123.456, "123.456"),
            (999_999.94, "999999.94"),
            (1e6, "1e+06"),
            (12_345_678.0, "1.2345678e+07"),
            (1e15, "1e+15"),
            (3.4e38, "3.4e+38"),
            (1e-45, "1e-45"),
            (-0.3, "-0.3"),
            (-5e-5, "-5e-05"),
            // Exact ties between two shortest spellings (x.25 and x.75 in [2^21, 2^22), the only
            // f32s that have them) go to the even digit, where Rust rounds up. Written as sums: as
            // literals they have more digits than their shortest spelling, which clippy refuses.
            (2_097_152.0 + 0.25, "2.0971522e+06"),
            (2_999_999.0 + 0.25, "2.9999992e+06"),
            (-4_194_303.0 - 0.25, "-4.1943032e+06"),
            (2_097_152.0 + 0.75, "2.0971528e+06"),
            (4_194_303.0 + 0.75, "4.1943038e+06"),
            (2_500_000.0 + 0.5, "2.5000005e+06"),
            (f32::NAN, "nan"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ];
        for &(value, expected) in cases {
            assert_eq!(numpy(value), expected, "formatting {value:e}");
        }
    }

    #[test]
    fn every_tie_goes_to_the_even_spelling() {
        // One integer in 61 of [2^21, 2^22), plus its .25 and .75: 8 significant digits where
        // Rust's shortest spelling has an odd last digit for one of the two.
        for whole in (2_097_152u32..4_194_304).step_by(61) {
            for fraction in [0.25, 0.75] {
                let value = whole as f32 + fraction;
                let spelled = numpy(value);
                let (mantissa, _) = spelled.split_once('e').expect("scientific");
                let last = mantissa.bytes().last().expect("a digit");
                assert_eq!(mantissa.len(), 9, "{spelled}");
                assert_eq!((last - b'0') % 2, 0, "{value}: {spelled}");
                assert_eq!(spelled.parse::<f32>(), Ok(value), "{spelled}");
            }
        }
    }
}

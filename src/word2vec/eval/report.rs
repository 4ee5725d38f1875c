//! The report of `embedserve eval`: readable text (`Display`) or pretty JSON.

use std::fmt;

use super::{AnalogyReport, EvalError, EvalReport, PairsReport, SectionScore};

impl EvalReport {
    /// The report as `--json` asks: pretty JSON, or the readable text.
    pub fn render(&self, json: bool) -> Result<String, EvalError> {
        if json {
            Ok(serde_json::to_string_pretty(self)?)
        } else {
            Ok(self.to_string())
        }
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let case = if self.case_insensitive {
            "case-insensitive"
        } else {
            "case-sensitive"
        };
        writeln!(
            f,
            "Store {}: {} words, {} dimensions (first {} words used, {case})",
            self.vectors.display(),
            self.words,
            self.dim,
            self.restrict_vocab
        )?;
        if let Some(analogies) = &self.analogies {
            write!(f, "{analogies}")?;
        }
        if let Some(pairs) = &self.pairs {
            write!(f, "{pairs}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SectionScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:.1}% ({}/{})",
            self.section,
            100.0 * self.accuracy,
            self.correct,
            self.correct + self.incorrect
        )
    }
}

impl fmt::Display for AnalogyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nWord analogies ({}):", self.file.display())?;
        for section in &self.sections {
            writeln!(f, "  {section}")?;
        }
        writeln!(f, "  {}", self.total)?;
        writeln!(
            f,
            "  Questions with out-of-vocabulary words (skipped): {:.1}% ({} of {})",
            self.oov_ratio, self.oov_questions, self.questions
        )?;
        if self.invalid_lines > 0 {
            writeln!(f, "  Invalid lines skipped: {}", self.invalid_lines)?;
        }
        Ok(())
    }
}

impl fmt::Display for PairsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nWord pairs ({}):", self.file.display())?;
        writeln!(
            f,
            "  Pearson correlation coefficient: {:.4} (p-value {:.4})",
            self.pearson.coefficient, self.pearson.p_value
        )?;
        writeln!(
            f,
            "  Spearman rank-order correlation coefficient: {:.4} (p-value {:.4})",
            self.spearman.coefficient, self.spearman.p_value
        )?;
        writeln!(
            f,
            "  Pairs with unknown words (skipped): {:.1}% ({} of {})",
            self.oov_ratio,
            self.oov_pairs,
            self.pairs + self.oov_pairs
        )?;
        if self.invalid_lines > 0 {
            writeln!(f, "  Invalid lines skipped: {}", self.invalid_lines)?;
        }
        Ok(())
    }
}

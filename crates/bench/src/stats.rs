//! Summaries of repeated measurements: median, percentiles, spread.
//!
//! Rule: a percentile is the nearest-rank value of the sorted samples, so
//! with fewer than 100 samples the p99 is the largest one; the summary
//! keeps the sample count so the report can say so.

use serde::{Deserialize, Serialize};

/// Median, p99, spread and count of a set of samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: usize,
    pub min: f64,
    pub median: f64,
    pub mean: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises `samples`; all zero when there are none.
    pub fn of(samples: &[f64]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            count: sorted.len(),
            min: sorted[0],
            median: percentile(&sorted, 50.0),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            p99: percentile(&sorted, 99.0),
            max: sorted[sorted.len() - 1],
        }
    }

    /// Half the range over the median, in percent: the spread quoted as ±.
    pub fn spread_percent(&self) -> f64 {
        if self.median == 0.0 {
            return 0.0;
        }
        (self.max - self.min) / 2.0 / self.median * 100.0
    }
}

/// Nearest-rank percentile of already sorted samples.
fn percentile(sorted: &[f64], percent: f64) -> f64 {
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<f64> = (1..=200).map(f64::from).collect();
        let summary = Summary::of(&samples);
        assert_eq!(summary.median, 100.0);
        assert_eq!(summary.p99, 198.0);
        assert_eq!((summary.min, summary.max, summary.count), (1.0, 200.0, 200));
    }

    #[test]
    fn few_samples_give_the_largest_as_p99() {
        let summary = Summary::of(&[3.0, 1.0, 2.0]);
        assert_eq!(summary.median, 2.0);
        assert_eq!(summary.p99, 3.0);
        assert!((summary.spread_percent() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn no_samples_give_zeros() {
        assert_eq!(Summary::of(&[]), Summary::default());
    }
}

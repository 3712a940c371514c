//! Which rank evaluates which sets of a batch, and what happens to an evaluation that fails or is overdue:
//! the bookkeeping of rank 0, without the transport (`mpi.rs`), so that it is tested on its own.

use crate::config::Scheduling;
use std::collections::VecDeque;
use std::ops::Range;
use std::time::{Duration, Instant};

/// The chunks of a batch of `sets`: one contiguous share per rank for [`Scheduling::Generation`] (sizes
/// differ by at most one, the larger first), chunks of `chunk` sets for [`Scheduling::Dynamic`] (by default
/// a quarter of a rank's share, at least 1). `scheduling` is resolved (not `Auto`).
pub fn cut(sets: usize, ranks: usize, scheduling: Scheduling, chunk: Option<usize>) -> Vec<Range<usize>> {
    let ranks = ranks.max(1);
    match scheduling {
        Scheduling::Dynamic => {
            let size = chunk.unwrap_or_else(|| sets.div_ceil(4 * ranks)).max(1);
            (0..sets).step_by(size).map(|s| s..(s + size).min(sets)).collect()
        }
        Scheduling::Generation | Scheduling::Auto => {
            let shares = ranks.min(sets);
            let mut start = 0;
            (0..shares)
                .map(|i| {
                    let len = sets / shares + usize::from(i < sets % shares);
                    start += len;
                    start - len..start
                })
                .collect()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running {
        rank: usize,
        task: u64,
        since: Instant,
    },
    Done,
    /// Every attempt failed: its sets are recorded as failed.
    Failed,
}

#[derive(Debug, Clone)]
struct Chunk {
    sets: Range<usize>,
    attempts: usize,
    /// Ranks on which an attempt failed or was overdue (re-issued elsewhere when possible).
    failed_on: Vec<usize>,
    state: State,
}

/// The chunks of one batch and their attempts.
#[derive(Debug, Clone)]
pub struct Dispatch {
    chunks: Vec<Chunk>,
    max_run_fail: usize,
}

impl Dispatch {
    pub fn new(chunks: Vec<Range<usize>>, max_run_fail: usize) -> Dispatch {
        let chunks =
            chunks.into_iter().map(|sets| Chunk { sets, attempts: 0, failed_on: Vec::new(), state: State::Pending });
        Dispatch { chunks: chunks.collect(), max_run_fail: max_run_fail.max(1) }
    }

    /// The chunk `rank` should take next: the first pending one it has not failed, else the first
    /// pending one.
    pub fn next_for(&self, rank: usize) -> Option<usize> {
        let pending = |c: &&Chunk| c.state == State::Pending;
        let fresh = self.chunks.iter().position(|c| pending(&c) && !c.failed_on.contains(&rank));
        fresh.or_else(|| self.chunks.iter().position(|c| pending(&c)))
    }

    /// The sets of chunk `k`.
    pub fn sets(&self, k: usize) -> Range<usize> {
        self.chunks[k].sets.clone()
    }

    /// Chunk `k` goes to `rank` as `task`.
    pub fn start(&mut self, k: usize, rank: usize, task: u64, now: Instant) {
        let chunk = &mut self.chunks[k];
        assert_eq!(chunk.state, State::Pending, "chunk {k} is not pending");
        chunk.attempts += 1;
        chunk.state = State::Running { rank, task, since: now };
    }

    /// The running chunk of `task`, if the task is still its current attempt (a late answer to an
    /// attempt given up on is not).
    pub fn chunk_of(&self, task: u64) -> Option<usize> {
        self.chunks.iter().position(|c| matches!(c.state, State::Running { task: t, .. } if t == task))
    }

    /// When the current attempt at chunk `k` was sent, while it runs.
    pub fn sent_at(&self, k: usize) -> Option<Instant> {
        match self.chunks[k].state {
            State::Running { since, .. } => Some(since),
            _ => None,
        }
    }

    /// Chunk `k` is evaluated.
    pub fn finish(&mut self, k: usize) {
        self.chunks[k].state = State::Done;
    }

    /// The current attempt at chunk `k` failed or is overdue: pending again, or failed for good after
    /// `max_run_fail` attempts (returns `true` then).
    pub fn fail(&mut self, k: usize) -> bool {
        let chunk = &mut self.chunks[k];
        if let State::Running { rank, .. } = chunk.state {
            chunk.failed_on.push(rank);
        }
        let given_up = chunk.attempts >= self.max_run_fail;
        chunk.state = if given_up { State::Failed } else { State::Pending };
        given_up
    }

    /// The running chunks past their limit at `now`: `(chunk, rank, task)`; `limit` takes a chunk's size.
    pub fn overdue(&self, now: Instant, limit: impl Fn(usize) -> Duration) -> Vec<(usize, usize, u64)> {
        let mut late = Vec::new();
        for (k, c) in self.chunks.iter().enumerate() {
            if let State::Running { rank, task, since } = c.state
                && now.duration_since(since) > limit(c.sets.len())
            {
                late.push((k, rank, task));
            }
        }
        late
    }

    /// Every chunk is evaluated or failed for good.
    pub fn complete(&self) -> bool {
        self.chunks.iter().all(|c| matches!(c.state, State::Done | State::Failed))
    }
}

/// The recent evaluation times per set, whose median sets the overdue limit.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    per_set: VecDeque<f64>,
}

/// Times kept for the median.
const KEPT: usize = 1000;

impl Timing {
    /// A chunk of `sets` sets took `seconds` on its rank.
    pub fn record(&mut self, seconds: f64, sets: usize) {
        if self.per_set.len() == KEPT {
            self.per_set.pop_front();
        }
        self.per_set.push_back(seconds / sets.max(1) as f64);
    }

    /// The median time per set \[s\], once one chunk has finished.
    pub fn median(&self) -> Option<f64> {
        let mut v: Vec<f64> = self.per_set.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        Some(if v.len().is_multiple_of(2) { 0.5 * (v[m - 1] + v[m]) } else { v[m] })
    }

    /// How long a chunk of `sets` sets may run: `factor` × the median × `sets`, at least `min` \[s\];
    /// `first` \[s\] before any median.
    pub fn limit(&self, sets: usize, options: &crate::config::MpiOptions) -> Duration {
        let seconds = match self.median() {
            Some(m) => (options.run_timeout_factor * m * sets as f64).max(options.run_timeout_min),
            None => options.run_timeout_first,
        };
        Duration::from_secs_f64(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MpiOptions;

    #[test]
    fn generation_gives_one_share_per_rank_and_dynamic_fixed_chunks() {
        assert_eq!(cut(10, 4, Scheduling::Generation, None), vec![0..3, 3..6, 6..8, 8..10]);
        assert_eq!(cut(2, 4, Scheduling::Generation, None), vec![0..1, 1..2]);
        assert_eq!(cut(7, 2, Scheduling::Dynamic, Some(3)), vec![0..3, 3..6, 6..7]);
        // a quarter of a rank's share: 100 sets, 4 ranks → 7 per chunk
        let chunks = cut(100, 4, Scheduling::Dynamic, None);
        assert_eq!((chunks.len(), chunks[0].len(), chunks.last().unwrap().clone()), (15, 7, 98..100));
        assert_eq!(cut(1, 8, Scheduling::Dynamic, None), vec![0..1]);
    }

    #[test]
    fn a_failed_chunk_goes_to_another_rank_then_fails_for_good() {
        let t0 = Instant::now();
        let mut d = Dispatch::new(vec![0..2, 2..4], 2);
        assert_eq!(d.next_for(1), Some(0));
        d.start(0, 1, 10, t0);
        assert_eq!(d.next_for(2), Some(1));
        d.start(1, 2, 11, t0);
        assert_eq!(d.next_for(0), None);
        // rank 2 answers; rank 1's attempt is overdue
        assert_eq!(d.chunk_of(11), Some(1));
        d.finish(1);
        let late = d.overdue(t0 + Duration::from_secs(5), |_| Duration::from_secs(1));
        assert_eq!(late, vec![(0, 1, 10)]);
        assert!(!d.fail(0));
        // rank 1 is not offered what it failed while another chunk is pending; here only chunk 0 is
        assert_eq!(d.next_for(1), Some(0));
        d.start(0, 2, 12, t0);
        assert_eq!(d.chunk_of(10), None, "a late answer to the first attempt is ignored");
        assert!(d.fail(0), "two attempts: failed for good");
        assert!(d.complete());
    }

    #[test]
    fn a_rank_prefers_chunks_it_has_not_failed() {
        let t0 = Instant::now();
        let mut d = Dispatch::new(vec![0..1, 1..2], 3);
        d.start(0, 1, 1, t0);
        d.fail(0);
        assert_eq!(d.next_for(1), Some(1));
        assert_eq!(d.next_for(2), Some(0));
    }

    #[test]
    fn the_limit_is_a_multiple_of_the_median_with_a_floor() {
        let options = MpiOptions {
            run_timeout_factor: 10.0,
            run_timeout_min: 2.0,
            run_timeout_first: 60.0,
            ..Default::default()
        };
        let mut t = Timing::default();
        assert_eq!(t.limit(4, &options), Duration::from_secs(60));
        for (seconds, sets) in [(1.0, 4), (0.9, 3), (50.0, 1)] {
            t.record(seconds, sets);
        }
        // per set: 0.25, 0.3, 50 → median 0.3
        assert!((t.median().unwrap() - 0.3).abs() < 1e-15);
        assert!((t.limit(4, &options).as_secs_f64() - 12.0).abs() < 1e-9);
        assert!((t.limit(1, &options).as_secs_f64() - 3.0).abs() < 1e-9);
        assert_eq!(t.limit(0, &options), Duration::from_secs(2));
    }
}

//! `cost_options`: smash's keys, defaults and checks (`core/simulation/_standardize.py`, spec §7).
//!
//! [`RawCostOptions`] is the TOML table as written (`[cost_options]`, `[train.stage.cost_options]`);
//! [`CostOptions::from_raw`] validates it against the time axis and the gauges, as smash's
//! `_standardize_simulation_cost_options` and `_finalize` do.

use super::efficiency::Metric;
use super::signatures::Signature;
use crate::time::{TimeAxis, parse_datetime};
use serde::Deserialize;

/// A cost option that smash would reject. Messages name the key and the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CostError {
    /// A name that is not among the choices.
    #[error("cost_options.{key}: '{value}' is not one of {choices}")]
    Unknown { key: &'static str, value: String, choices: String },
    /// Any other unacceptable value.
    #[error("cost_options.{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> CostError {
    CostError::Invalid { key, message: message.into() }
}

/// One name or a list of names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Weights: an alias (`"mean"`, `"median"`, `"lquartile"`, `"uquartile"`), a number or a list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawWeights {
    Alias(String),
    One(f64),
    Many(Vec<f64>),
}

/// `wjreg`: a number ≥ 0, `"fast"` or `"lcurve"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawWjreg {
    Alias(String),
    Value(f64),
}

/// `event_seg` as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEventSeg {
    pub peak_quant: Option<f64>,
    pub peak_value: Option<f64>,
    pub max_duration: Option<f64>,
}

/// The `cost_options` table as written; every key is optional (smash's defaults apply).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCostOptions {
    pub jobs_cmpt: Option<OneOrMany>,
    pub wjobs_cmpt: Option<RawWeights>,
    pub jobs_cmpt_tfm: Option<OneOrMany>,
    /// `"YYYY-mm-dd HH:MM"` (or a date).
    pub end_warmup: Option<String>,
    pub gauge: Option<OneOrMany>,
    pub wgauge: Option<RawWeights>,
    pub event_seg: Option<RawEventSeg>,
    pub jreg_cmpt: Option<OneOrMany>,
    pub wjreg_cmpt: Option<RawWeights>,
    pub wjreg: Option<RawWjreg>,
}

/// One observation term of `jobs_cmpt`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobsComponent {
    /// An efficiency metric; nse, nnse and kge enter as `1 − metric`.
    Metric(Metric),
    /// A continuous signature `(S_sim/S_obs − 1)²`.
    Continuous(Signature),
    /// The mean over flood events of `(S_sim/S_obs − 1)²`.
    Event(Signature),
}

const SIGNS: [(&str, JobsComponent); 16] = [
    ("Crc", JobsComponent::Continuous(Signature::Rc)),
    ("Crchf", JobsComponent::Continuous(Signature::Rchf)),
    ("Crclf", JobsComponent::Continuous(Signature::Rclf)),
    ("Crch2r", JobsComponent::Continuous(Signature::Rch2r)),
    ("Cfp2", JobsComponent::Continuous(Signature::Fp(0.02))),
    ("Cfp10", JobsComponent::Continuous(Signature::Fp(0.1))),
    ("Cfp50", JobsComponent::Continuous(Signature::Fp(0.5))),
    ("Cfp90", JobsComponent::Continuous(Signature::Fp(0.9))),
    ("Eff", JobsComponent::Event(Signature::Ff)),
    ("Ebf", JobsComponent::Event(Signature::Bf)),
    ("Erc", JobsComponent::Event(Signature::Rc)),
    ("Erchf", JobsComponent::Event(Signature::Rchf)),
    ("Erclf", JobsComponent::Event(Signature::Rclf)),
    ("Erch2r", JobsComponent::Event(Signature::Rch2r)),
    ("Elt", JobsComponent::Event(Signature::Lt)),
    ("Epf", JobsComponent::Event(Signature::Pf)),
];

impl JobsComponent {
    /// Every component, in smash's `JOBS_CMPT` order.
    pub fn all() -> Vec<JobsComponent> {
        Metric::ALL.iter().map(|&m| JobsComponent::Metric(m)).chain(SIGNS.iter().map(|s| s.1)).collect()
    }

    /// smash's name (`"nse"`, `"Crc"`, …).
    pub fn name(self) -> &'static str {
        match self {
            JobsComponent::Metric(m) => m.name(),
            _ => SIGNS.iter().find(|s| s.1 == self).map(|s| s.0).expect("every signature has a name"),
        }
    }

    /// Parses a name as smash does: metrics in lower case, signatures capitalised (`"crc"` → `Crc`).
    pub fn parse(name: &str) -> Option<JobsComponent> {
        let lower = name.to_lowercase();
        let capitalized: String =
            lower.chars().take(1).flat_map(char::to_uppercase).chain(lower.chars().skip(1)).collect();
        SIGNS
            .iter()
            .find(|s| s.0 == capitalized)
            .map(|s| s.1)
            .or_else(|| Metric::ALL.iter().find(|m| m.name() == lower).map(|&m| JobsComponent::Metric(m)))
    }

    pub fn is_signature(self) -> bool {
        !matches!(self, JobsComponent::Metric(_))
    }
}

/// Discharge transform applied before a component (`jobs_cmpt_tfm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Keep,
    /// `√(q + ε)`
    Sqrt,
    /// `1/(q + ε)`
    Inv,
}

impl Transform {
    fn parse(name: &str) -> Option<Transform> {
        match name.to_lowercase().as_str() {
            "keep" => Some(Transform::Keep),
            "sqrt" => Some(Transform::Sqrt),
            "inv" => Some(Transform::Inv),
            _ => None,
        }
    }
}

/// Regularization term (`jreg_cmpt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegComponent {
    /// `Σ(x − x_bkg)²` over the control.
    Prior,
    /// Laplacian of `θ − θ_bkg` on the grid.
    Smoothing,
    /// Laplacian of `θ`.
    HardSmoothing,
}

/// `wjreg`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RegWeight {
    Value(f64),
    /// smash's `'fast'` rule.
    Fast,
    /// smash's L-curve search.
    Lcurve,
}

/// Event segmentation options (`event_seg`), smash's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventSeg {
    /// Peak discharge quantile, in \[0, 1\] (default 0.995).
    pub peak_quant: f64,
    /// Minimum peak discharge \[m³/s\] (default 0).
    pub peak_value: f64,
    /// Maximum event duration \[h\] (default 240).
    pub max_duration: f64,
}

impl Default for EventSeg {
    fn default() -> Self {
        EventSeg { peak_quant: 0.995, peak_value: 0.0, max_duration: 240.0 }
    }
}

/// Validated cost options.
#[derive(Debug, Clone, PartialEq)]
pub struct CostOptions {
    /// Observation terms, `[C]`.
    pub jobs_cmpt: Vec<JobsComponent>,
    /// Their weights `[C]` (`"mean"` = 1/C; the quantile aliases give −0.25/−0.5/−0.75, used as plain
    /// weights, as smash does).
    pub wjobs_cmpt: Vec<f64>,
    /// Transform before each term, `[C]` (cumulative: each applies to the already transformed series).
    pub jobs_cmpt_tfm: Vec<Transform>,
    /// Number of warm-up steps left out of the cost: `⌊(end_warmup − start)/dt⌋`.
    pub end_warmup: usize,
    /// Whether each gauge of the mesh is in the cost, `[G]` in mesh order.
    pub gauge: Vec<bool>,
    /// Gauge weights `[G]` in mesh order (0 where not selected). Negative: the quantile aliases (median
    /// −0.5, lquartile −0.25, uquartile −0.75), which replace the weighted sum by a quantile over gauges.
    pub wgauge: Vec<f64>,
    pub event_seg: EventSeg,
    pub jreg_cmpt: Vec<RegComponent>,
    /// `[R]`, as `wjobs_cmpt`.
    pub wjreg_cmpt: Vec<f64>,
    pub wjreg: RegWeight,
}

const WEIGHT_ALIASES: &str = "'mean', 'median', 'lquartile', 'uquartile'";

impl CostOptions {
    /// Validates `raw` for a run on `time` with gauges `codes` (`[G]`, mesh order); `downstream[g]` is
    /// whether gauge `g`'s cell has `flwdst == 0` (the `'dws'` gauges).
    pub fn from_raw(
        raw: &RawCostOptions,
        time: &TimeAxis,
        codes: &[String],
        downstream: &[bool],
    ) -> Result<CostOptions, CostError> {
        assert_eq!(codes.len(), downstream.len(), "one downstream flag per gauge");
        let jobs_cmpt = parse_jobs_cmpt(raw.jobs_cmpt.as_ref())?;
        let wjobs_cmpt = weights("wjobs_cmpt", raw.wjobs_cmpt.as_ref(), jobs_cmpt.len(), "jobs_cmpt")?;
        let jobs_cmpt_tfm = parse_tfm(raw.jobs_cmpt_tfm.as_ref(), &jobs_cmpt)?;
        let end_warmup = parse_end_warmup(raw.end_warmup.as_deref(), time)?;
        let selected = parse_gauge(raw.gauge.as_ref(), codes, downstream)?;
        let w = weights("wgauge", raw.wgauge.as_ref(), selected.len(), "gauge")?;
        // smash hands the n-th weight to the n-th selected gauge in mesh order
        let gauge: Vec<bool> = codes.iter().map(|c| selected.contains(c)).collect();
        let mut wgauge = vec![0.0; codes.len()];
        let mut n = 0;
        for (g, &on) in gauge.iter().enumerate() {
            if on {
                wgauge[g] = w.get(n).copied().unwrap_or(0.0);
                n += 1;
            }
        }
        let event_seg = parse_event_seg(raw.event_seg.as_ref())?;
        let jreg_cmpt = parse_jreg_cmpt(raw.jreg_cmpt.as_ref())?;
        let wjreg_cmpt = weights("wjreg_cmpt", raw.wjreg_cmpt.as_ref(), jreg_cmpt.len(), "jreg_cmpt")?;
        let wjreg = match &raw.wjreg {
            None => RegWeight::Value(0.0),
            Some(RawWjreg::Value(v)) if *v >= 0.0 => RegWeight::Value(*v),
            Some(RawWjreg::Value(v)) => return Err(invalid("wjreg", format!("{v} must be ≥ 0"))),
            Some(RawWjreg::Alias(a)) => match a.to_lowercase().as_str() {
                "fast" => RegWeight::Fast,
                "lcurve" => RegWeight::Lcurve,
                _ => {
                    return Err(CostError::Unknown {
                        key: "wjreg",
                        value: a.clone(),
                        choices: "'fast', 'lcurve' or a number ≥ 0".into(),
                    });
                }
            },
        };
        Ok(CostOptions {
            jobs_cmpt,
            wjobs_cmpt,
            jobs_cmpt_tfm,
            end_warmup,
            gauge,
            wgauge,
            event_seg,
            jreg_cmpt,
            wjreg_cmpt,
            wjreg,
        })
    }

    /// Whether any term needs flood events.
    pub fn needs_events(&self) -> bool {
        self.jobs_cmpt.iter().any(|c| matches!(c, JobsComponent::Event(_)))
    }
}

fn parse_jobs_cmpt(raw: Option<&OneOrMany>) -> Result<Vec<JobsComponent>, CostError> {
    let names = raw.map(OneOrMany::to_vec).unwrap_or_else(|| vec!["nse".into()]);
    if names.is_empty() {
        return Err(invalid("jobs_cmpt", "the list is empty"));
    }
    names
        .iter()
        .map(|n| {
            JobsComponent::parse(n).ok_or_else(|| CostError::Unknown {
                key: "jobs_cmpt",
                value: n.clone(),
                choices: JobsComponent::all().iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
            })
        })
        .collect()
}

fn parse_jreg_cmpt(raw: Option<&OneOrMany>) -> Result<Vec<RegComponent>, CostError> {
    let names = raw.map(OneOrMany::to_vec).unwrap_or_else(|| vec!["prior".into()]);
    if names.is_empty() {
        return Err(invalid("jreg_cmpt", "the list is empty"));
    }
    names
        .iter()
        .map(|n| match n.to_lowercase().as_str() {
            "prior" => Ok(RegComponent::Prior),
            "smoothing" => Ok(RegComponent::Smoothing),
            "hard-smoothing" => Ok(RegComponent::HardSmoothing),
            _ => Err(CostError::Unknown {
                key: "jreg_cmpt",
                value: n.clone(),
                choices: "prior, smoothing, hard-smoothing".into(),
            }),
        })
        .collect()
}

/// Weights for `n` items of `of`: an alias or `n` numbers ≥ 0.
fn weights(key: &'static str, raw: Option<&RawWeights>, n: usize, of: &str) -> Result<Vec<f64>, CostError> {
    let alias = |a: &str| -> Result<Vec<f64>, CostError> {
        let w = match a {
            "mean" => 1.0 / n as f64,
            "median" => -0.5,
            "lquartile" => -0.25,
            "uquartile" => -0.75,
            _ => {
                return Err(CostError::Unknown {
                    key,
                    value: a.into(),
                    choices: format!("{WEIGHT_ALIASES} or numbers ≥ 0"),
                });
            }
        };
        Ok(vec![w; n])
    };
    let values = match raw {
        None => return alias("mean"),
        Some(RawWeights::Alias(a)) => return alias(a),
        Some(RawWeights::One(v)) => vec![*v],
        Some(RawWeights::Many(v)) => v.clone(),
    };
    if values.len() != n {
        return Err(invalid(key, format!("{} weights for {n} entries of {of}", values.len())));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| v.is_nan() || **v < 0.0) {
        return Err(invalid(key, format!("weight {v} at index {i} must be ≥ 0")));
    }
    Ok(values)
}

fn parse_tfm(raw: Option<&OneOrMany>, jobs: &[JobsComponent]) -> Result<Vec<Transform>, CostError> {
    let choices = || "keep, sqrt, inv".to_string();
    let tfm: Vec<Transform> = match raw {
        None => vec![Transform::Keep; jobs.len()],
        Some(OneOrMany::One(name)) => {
            let t = Transform::parse(name).ok_or_else(|| CostError::Unknown {
                key: "jobs_cmpt_tfm",
                value: name.clone(),
                choices: choices(),
            })?;
            vec![t; jobs.len()]
        }
        Some(OneOrMany::Many(names)) => {
            if names.len() != jobs.len() {
                return Err(invalid(
                    "jobs_cmpt_tfm",
                    format!("{} transforms for {} components of jobs_cmpt", names.len(), jobs.len()),
                ));
            }
            names
                .iter()
                .map(|n| {
                    Transform::parse(n).ok_or_else(|| CostError::Unknown {
                        key: "jobs_cmpt_tfm",
                        value: n.clone(),
                        choices: choices(),
                    })
                })
                .collect::<Result<_, _>>()?
        }
    };
    for (i, (c, t)) in jobs.iter().zip(&tfm).enumerate() {
        if c.is_signature() && *t != Transform::Keep {
            return Err(invalid(
                "jobs_cmpt_tfm",
                format!(
                    "'{}' is not available for signature '{}' at index {i}: signatures accept only 'keep'",
                    tfm_name(*t),
                    c.name()
                ),
            ));
        }
    }
    Ok(tfm)
}

fn tfm_name(t: Transform) -> &'static str {
    match t {
        Transform::Keep => "keep",
        Transform::Sqrt => "sqrt",
        Transform::Inv => "inv",
    }
}

fn parse_end_warmup(raw: Option<&str>, time: &TimeAxis) -> Result<usize, CostError> {
    let Some(text) = raw else { return Ok(0) };
    let date = parse_datetime(text)
        .ok_or_else(|| invalid("end_warmup", format!("'{text}' is not a date 'YYYY-mm-dd HH:MM'")))?;
    let secs = (date - time.start).num_seconds();
    let end = time.start + chrono::TimeDelta::seconds(time.dt * time.ntime as i64);
    if secs < 0 || date > end {
        return Err(invalid(
            "end_warmup",
            format!("'{text}' must be between the start time {} and the end time {}", time.start, end),
        ));
    }
    Ok((secs / time.dt) as usize)
}

/// The selected gauge codes, in the order given (duplicates dropped).
fn parse_gauge(raw: Option<&OneOrMany>, codes: &[String], downstream: &[bool]) -> Result<Vec<String>, CostError> {
    let known = || format!("'dws', 'all' or one of {}", codes.join(", "));
    let list = match raw {
        None => return Ok(dws(codes, downstream)),
        Some(OneOrMany::One(s)) if s == "dws" => return Ok(dws(codes, downstream)),
        Some(OneOrMany::One(s)) if s == "all" => return Ok(codes.to_vec()),
        Some(other) => other.to_vec(),
    };
    let mut out: Vec<String> = Vec::new();
    for code in list {
        if !codes.contains(&code) {
            return Err(CostError::Unknown { key: "gauge", value: code, choices: known() });
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

fn dws(codes: &[String], downstream: &[bool]) -> Vec<String> {
    codes.iter().zip(downstream).filter(|(_, d)| **d).map(|(c, _)| c.clone()).collect()
}

fn parse_event_seg(raw: Option<&RawEventSeg>) -> Result<EventSeg, CostError> {
    let mut e = EventSeg::default();
    let Some(raw) = raw else { return Ok(e) };
    if let Some(v) = raw.peak_quant {
        if !(0.0..=1.0).contains(&v) {
            return Err(invalid("event_seg.peak_quant", format!("{v} must be between 0 and 1")));
        }
        e.peak_quant = v;
    }
    if let Some(v) = raw.peak_value {
        if v.is_nan() || v < 0.0 {
            return Err(invalid("event_seg.peak_value", format!("{v} must be ≥ 0")));
        }
        e.peak_value = v;
    }
    if let Some(v) = raw.max_duration {
        if v.is_nan() || v <= 0.0 {
            return Err(invalid("event_seg.max_duration", format!("{v} must be > 0")));
        }
        e.max_duration = v;
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis() -> TimeAxis {
        TimeAxis { start: parse_datetime("2014-09-15 00:00").unwrap(), dt: 3600, ntime: 1440 }
    }

    fn codes() -> Vec<String> {
        vec!["A".into(), "B".into(), "C".into()]
    }

    fn parse(text: &str) -> Result<CostOptions, CostError> {
        let raw: RawCostOptions = toml::from_str(text).unwrap();
        CostOptions::from_raw(&raw, &axis(), &codes(), &[true, false, false])
    }

    #[test]
    fn defaults_are_smash_defaults() {
        let o = parse("").unwrap();
        assert_eq!(o.jobs_cmpt, vec![JobsComponent::Metric(Metric::Nse)]);
        assert_eq!(o.wjobs_cmpt, vec![1.0]);
        assert_eq!(o.jobs_cmpt_tfm, vec![Transform::Keep]);
        assert_eq!(o.end_warmup, 0);
        assert_eq!(o.gauge, vec![true, false, false]);
        assert_eq!(o.wgauge, vec![1.0, 0.0, 0.0]);
        assert_eq!(o.event_seg, EventSeg::default());
        assert_eq!(o.jreg_cmpt, vec![RegComponent::Prior]);
        assert_eq!(o.wjreg, RegWeight::Value(0.0));
    }

    #[test]
    fn parses_lists_aliases_and_case() {
        let o = parse(
            r#"
            jobs_cmpt = ["NSE", "crc", "Epf"]
            wjobs_cmpt = [1, 0.5, 2]
            jobs_cmpt_tfm = ["sqrt", "keep", "KEEP"]
            end_warmup = "2014-10-01 06:30"
            gauge = ["C", "A"]
            wgauge = [0.25, 0.75]
            event_seg = { peak_quant = 0.99, max_duration = 120 }
            jreg_cmpt = ["prior", "Hard-Smoothing"]
            wjreg_cmpt = "median"
            wjreg = "lcurve"
            "#,
        )
        .unwrap();
        assert_eq!(o.jobs_cmpt[1], JobsComponent::Continuous(Signature::Rc));
        assert_eq!(o.jobs_cmpt[2].name(), "Epf");
        assert_eq!(o.jobs_cmpt_tfm, vec![Transform::Sqrt, Transform::Keep, Transform::Keep]);
        // 16 days and 6.5 hours after the start: 390 whole steps
        assert_eq!(o.end_warmup, 390);
        // weights go to the selected gauges in mesh order
        assert_eq!(o.wgauge, vec![0.25, 0.0, 0.75]);
        assert_eq!(o.event_seg.max_duration, 120.0);
        assert_eq!(o.wjreg_cmpt, vec![-0.5, -0.5]);
        assert_eq!(o.wjreg, RegWeight::Lcurve);
        assert_eq!(parse(r#"gauge = "all""#).unwrap().wgauge, vec![1.0 / 3.0; 3]);
        assert_eq!(
            parse(
                r#"gauge = "all"
wgauge = "uquartile""#
            )
            .unwrap()
            .wgauge,
            vec![-0.75; 3]
        );
    }

    #[test]
    fn errors_name_the_key_and_value() {
        let msg = |t: &str| parse(t).unwrap_err().to_string();
        assert!(msg(r#"jobs_cmpt = "nsee""#).starts_with("cost_options.jobs_cmpt: 'nsee' is not one of nse, nnse"));
        assert!(
            msg(r#"jobs_cmpt = ["nse", "Crc"]
jobs_cmpt_tfm = "sqrt""#)
            .contains("'sqrt' is not available for signature 'Crc' at index 1")
        );
        assert!(
            msg(r#"end_warmup = "2015-01-01 00:00""#)
                .starts_with("cost_options.end_warmup: '2015-01-01 00:00' must be between")
        );
        assert!(msg(r#"end_warmup = "2014-09-14""#).contains("must be between"));
        assert!(msg(r#"gauge = ["A", "Z"]"#).starts_with("cost_options.gauge: 'Z' is not one of"));
        assert!(msg(r#"wjobs_cmpt = [1, 2]"#).contains("2 weights for 1 entries of jobs_cmpt"));
        assert!(msg(r#"wjobs_cmpt = -1"#).contains("weight -1 at index 0 must be ≥ 0"));
        assert!(msg(r#"wgauge = "avg""#).starts_with("cost_options.wgauge: 'avg' is not one of"));
        assert!(msg(r#"wjreg = -2"#).contains("wjreg: -2 must be ≥ 0"));
        assert!(msg(r#"event_seg = { peak_quant = 2 }"#).contains("event_seg.peak_quant: 2 must be between 0 and 1"));
        assert!(
            toml::from_str::<RawCostOptions>("jobs_cmpt = \"nse\"\nwgauges = 1")
                .unwrap_err()
                .to_string()
                .contains("wgauges")
        );
        // the end of the period is a valid end of warm-up (no step left: smash accepts it)
        assert_eq!(parse(r#"end_warmup = "2014-11-14 00:00""#).unwrap().end_warmup, 1440);
    }
}

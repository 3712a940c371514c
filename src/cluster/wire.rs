//! The messages between MPI ranks as bytes: little-endian integers, floats by their bits (NaN and ±∞ travel
//! unchanged, so values are bitwise the same on every rank), strings as UTF-8 with their length.

use super::StageSetup;
use super::catchments::Partial;
use crate::calibration::objective::Terms;
use crate::model::Fields;
use crate::model::ann::{AnnShape, AnnWeights};

/// One evaluated set: its values `[K]` and its cost terms; `None` where the evaluation failed.
pub type Evaluated = (Vec<f64>, Terms);

/// What rank 0 and a worker say to each other.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Rank 0 → workers: the problem of the search stage that starts.
    Stage(Box<StageSetup>),
    /// Rank 0 → a worker: evaluate these sets (`xs`: `[S, n]` row-major) of the current stage.
    Work { task: u64, dim: usize, xs: Vec<f64> },
    /// Rank 0 → workers: the stage is over.
    EndStage,
    /// Rank 0 → workers: the run is over.
    Stop,
    /// A worker → rank 0: task `task` evaluated in `seconds` (its values `[S, K]` and terms), or its error.
    Done { task: u64, seconds: f64, result: Result<Vec<Evaluated>, String> },
    /// A worker → rank 0: stopping.
    Stopped,
    /// Rank 0 → workers: evaluate your share of the catchments at `x` (with the gradient when `gradient`).
    Gradient { x: Vec<f64>, gradient: bool },
    /// A worker → rank 0: its share's evaluation, or its error.
    Partial(Result<Partial, String>),
}

/// Why bytes are not a message.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("malformed message from another rank: {0}")]
pub struct WireError(String);

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        match self {
            Message::Stage(setup) => {
                w.u8(1);
                w.u64(setup.number as u64);
                w.u64(setup.random_state as u64);
                w.f64(setup.wjreg);
                w.fields(&setup.parameters);
                w.fields(&setup.states);
                w.u8(setup.catchments as u8);
            }
            Message::Work { task, dim, xs } => {
                w.u8(2);
                w.u64(*task);
                w.u64(*dim as u64);
                w.f64s(xs);
            }
            Message::EndStage => w.u8(3),
            Message::Stop => w.u8(4),
            Message::Done { task, seconds, result } => {
                w.u8(5);
                w.u64(*task);
                w.f64(*seconds);
                match result {
                    Ok(sets) => {
                        w.u8(1);
                        w.u64(sets.len() as u64);
                        for (values, terms) in sets {
                            w.f64s(values);
                            w.f64(terms.jobs);
                            w.f64(terms.jreg);
                            w.f64(terms.validation.unwrap_or(f64::NAN));
                            w.u8(terms.validation.is_some() as u8);
                        }
                    }
                    Err(message) => {
                        w.u8(0);
                        w.str(message);
                    }
                }
            }
            Message::Stopped => w.u8(6),
            Message::Gradient { x, gradient } => {
                w.u8(7);
                w.f64s(x);
                w.u8(*gradient as u8);
            }
            Message::Partial(result) => {
                w.u8(8);
                match result {
                    Ok(p) => {
                        w.u8(1);
                        w.f64(p.jobs);
                        w.f64s(&p.gradient);
                        w.f64s(&p.qsim.iter().map(|&q| q as f64).collect::<Vec<_>>());
                    }
                    Err(message) => {
                        w.u8(0);
                        w.str(message);
                    }
                }
            }
        }
        w.0
    }

    /// Reads a message; the variable names of fields are resolved among `names` (the structure's).
    pub fn decode(bytes: &[u8], names: &[&'static str]) -> Result<Message, WireError> {
        let mut r = Reader { bytes, at: 0 };
        let message = match r.u8()? {
            1 => Message::Stage(Box::new(StageSetup {
                number: r.u64()? as usize,
                random_state: r.u64()? as u32,
                wjreg: r.f64()?,
                parameters: r.fields(names)?,
                states: r.fields(names)?,
                catchments: r.u8()? == 1,
            })),
            2 => Message::Work { task: r.u64()?, dim: r.u64()? as usize, xs: r.f64s()? },
            3 => Message::EndStage,
            4 => Message::Stop,
            5 => {
                let (task, seconds) = (r.u64()?, r.f64()?);
                let result = match r.u8()? {
                    1 => {
                        let n = r.len()?;
                        let mut sets = Vec::with_capacity(n);
                        for _ in 0..n {
                            let values = r.f64s()?;
                            let (jobs, jreg, validation) = (r.f64()?, r.f64()?, r.f64()?);
                            let validation = (r.u8()? == 1).then_some(validation);
                            sets.push((values, Terms { jobs, jreg, validation }));
                        }
                        Ok(sets)
                    }
                    _ => Err(r.str()?),
                };
                Message::Done { task, seconds, result }
            }
            6 => Message::Stopped,
            7 => Message::Gradient { x: r.f64s()?, gradient: r.u8()? == 1 },
            8 => Message::Partial(match r.u8()? {
                1 => {
                    let (jobs, gradient) = (r.f64()?, r.f64s()?);
                    // f32 values widened to f64 on the way: narrowing them back is exact
                    let qsim = r.f64s()?.into_iter().map(|q| q as f32).collect();
                    Ok(Partial { jobs, gradient, qsim })
                }
                _ => Err(r.str()?),
            }),
            kind => return Err(WireError(format!("unknown kind {kind}"))),
        };
        if r.at != bytes.len() {
            return Err(WireError(format!("{} trailing bytes", bytes.len() - r.at)));
        }
        Ok(message)
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn f64s(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|&x| self.f64(x));
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn fields(&mut self, f: &Fields) {
        self.u64(f.names.len() as u64);
        f.names.iter().for_each(|n| self.str(n));
        self.u64(f.ncell as u64);
        self.f64s(&f.values);
        self.f64s(&f.weights);
        match &f.ann {
            None => self.u8(0),
            Some(ann) => {
                self.u8(1);
                self.str(&serde_json::to_string(&ann.shape).expect("a network shape serializes"));
                self.u64(ann.variables.len() as u64);
                ann.variables.iter().for_each(|v| self.str(v));
                ann.bounds.iter().for_each(|&(l, u)| {
                    self.f64(l);
                    self.f64(u)
                });
                self.f64s(&ann.values);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| WireError(format!("ends at byte {} of {}", self.bytes.len(), self.at + n)))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    /// A count of items still to read (checked against the bytes left).
    fn len(&mut self) -> Result<usize, WireError> {
        let n = self.u64()?;
        if n > (self.bytes.len() - self.at) as u64 {
            return Err(WireError(format!("a count of {n} with {} bytes left", self.bytes.len() - self.at)));
        }
        Ok(n as usize)
    }
    fn f64(&mut self) -> Result<f64, WireError> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn f64s(&mut self) -> Result<Vec<f64>, WireError> {
        let n = self.len()?;
        (0..n).map(|_| self.f64()).collect()
    }
    fn str(&mut self) -> Result<String, WireError> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| WireError(e.to_string()))
    }
    fn fields(&mut self, known: &[&'static str]) -> Result<Fields, WireError> {
        let count = self.len()?;
        let mut names = Vec::with_capacity(count);
        for _ in 0..count {
            let name = self.str()?;
            let name =
                known.iter().find(|&&k| k == name).ok_or_else(|| WireError(format!("unknown variable {name}")))?;
            names.push(*name);
        }
        let ncell = self.u64()? as usize;
        let (values, weights) = (self.f64s()?, self.f64s()?);
        let ann = match self.u8()? {
            0 => None,
            _ => {
                let shape: AnnShape = serde_json::from_str(&self.str()?).map_err(|e| WireError(e.to_string()))?;
                let n = self.len()?;
                let variables = (0..n).map(|_| self.str()).collect::<Result<Vec<_>, _>>()?;
                let bounds = (0..n).map(|_| Ok((self.f64()?, self.f64()?))).collect::<Result<Vec<_>, WireError>>()?;
                Some(AnnWeights { shape, variables, bounds, values: self.f64s()? })
            }
        };
        Ok(Fields { names, ncell, values, weights, ann })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["cp", "ct", "hp"];

    fn round_trip(m: &Message) {
        assert_eq!(&Message::decode(&m.encode(), NAMES).unwrap(), m);
    }

    #[test]
    fn every_message_round_trips_bit_for_bit() {
        let fields = |ann| Fields {
            names: vec!["cp", "ct"],
            ncell: 2,
            values: vec![1.5, f64::MIN_POSITIVE, -0.0, 1e300],
            weights: vec![0.25],
            ann,
        };
        let ann = AnnWeights {
            shape: AnnShape::smash_default(3, 2, 10, 12),
            variables: vec!["cp".into(), "ct".into()],
            bounds: vec![(1e-6, 1000.0), (1e-6, 1000.0)],
            values: vec![0.1; AnnShape::smash_default(3, 2, 10, 12).len()],
        };
        let stage = StageSetup {
            number: 3,
            random_state: u32::MAX,
            wjreg: 0.125,
            parameters: fields(Some(ann)),
            states: Fields { names: vec!["hp"], ncell: 2, values: vec![0.01, 0.99], weights: vec![], ann: None },
            catchments: true,
        };
        round_trip(&Message::Stage(Box::new(stage)));
        round_trip(&Message::Work { task: 7, dim: 2, xs: vec![1.0, 2.0, 3.0, 4.0] });
        round_trip(&Message::EndStage);
        round_trip(&Message::Stop);
        round_trip(&Message::Stopped);
        round_trip(&Message::Gradient { x: vec![0.5, -2.0], gradient: true });
        let partial = Partial { jobs: 0.25, gradient: vec![1.0, -1e-30], qsim: vec![1.5f32, f32::MIN_POSITIVE, 3e38] };
        round_trip(&Message::Partial(Ok(partial)));
        round_trip(&Message::Partial(Err("rank 3: engine error".into())));
        round_trip(&Message::Done { task: 9, seconds: 0.5, result: Err("engine: out of memory".into()) });
        let sets = vec![
            (vec![0.5, f64::INFINITY], Terms { jobs: 0.5, jreg: 0.0, validation: Some(0.75) }),
            (vec![-1.0, 2.0], Terms::new(-1.0, 1e-9)),
        ];
        round_trip(&Message::Done { task: 10, seconds: 1.25, result: Ok(sets) });
        // NaN survives as its bits
        let bytes = Message::Work { task: 1, dim: 1, xs: vec![f64::NAN] }.encode();
        let Message::Work { xs, .. } = Message::decode(&bytes, NAMES).unwrap() else { panic!() };
        assert_eq!(xs[0].to_bits(), f64::NAN.to_bits());
    }

    #[test]
    fn truncated_or_unknown_bytes_are_errors() {
        let bytes = Message::Work { task: 1, dim: 2, xs: vec![1.0, 2.0] }.encode();
        for cut in 0..bytes.len() {
            assert!(Message::decode(&bytes[..cut], NAMES).is_err(), "cut at {cut}");
        }
        assert!(Message::decode(&[9], NAMES).is_err());
        let mut long = Message::Stop.encode();
        long.push(0);
        assert!(Message::decode(&long, NAMES).is_err());
        let stage = StageSetup {
            number: 1,
            random_state: 0,
            wjreg: 0.0,
            parameters: Fields { names: vec!["kexc"], ncell: 0, values: vec![], weights: vec![], ann: None },
            states: Fields { names: vec![], ncell: 0, values: vec![], weights: vec![], ann: None },
            catchments: false,
        };
        let err = Message::decode(&Message::Stage(Box::new(stage)).encode(), NAMES).unwrap_err();
        assert!(err.to_string().contains("unknown variable kexc"), "{err}");
    }
}

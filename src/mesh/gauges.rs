//! Gauge descriptions: smash's `gauge_attributes.csv` (`code,x,y,area`, area in km²).

use std::path::Path;

use super::MeshError;

/// A gauge to place on the mesh.
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeSpec {
    /// Station code, e.g. `V3524010`.
    pub code: String,
    /// Outlet coordinates in the flow-direction grid's CRS \[m\].
    pub x: f64,
    pub y: f64,
    /// Declared drained area \[m²\].
    pub area: f64,
}

/// Reads a gauge attributes CSV: a header naming the columns `code`, `x`, `y` and `area` (any order,
/// other columns ignored), then one gauge per line. `area` is in km² and is returned in m².
///
/// # Errors
/// [`MeshError::Io`] if the file cannot be read; [`MeshError::GaugeAttributes`] (file and 1-based
/// line) for a missing column, a short line, a value that is not a number, or no gauge at all.
pub fn read_gauge_attributes(path: &Path) -> Result<Vec<GaugeSpec>, MeshError> {
    let text = std::fs::read_to_string(path).map_err(|source| MeshError::Io { path: path.to_path_buf(), source })?;
    parse_gauge_attributes(&text, path)
}

fn parse_gauge_attributes(text: &str, path: &Path) -> Result<Vec<GaugeSpec>, MeshError> {
    let err = |line: usize, message: String| MeshError::GaugeAttributes { path: path.to_path_buf(), line, message };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, l)| !l.is_empty());
    let (hline, header) = lines.next().ok_or_else(|| err(1, "empty file, expected a header `code,x,y,area`".into()))?;
    let names: Vec<String> = split(header).map(|s| s.to_ascii_lowercase()).collect();
    let col = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| err(hline, format!("missing column `{name}` in header `{header}` (expected code,x,y,area)")))
    };
    let (ic, ix, iy, ia) = (col("code")?, col("x")?, col("y")?, col("area")?);

    let mut gauges = Vec::new();
    for (line, l) in lines {
        let fields: Vec<&str> = split(l).collect();
        if fields.len() < names.len() {
            return Err(err(line, format!("{} fields, expected {} ({header})", fields.len(), names.len())));
        }
        let num = |i: usize| {
            fields[i]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(line, format!("`{}` = {:?} is not a finite number", names[i], fields[i])))
        };
        let code = fields[ic].to_string();
        if code.is_empty() {
            return Err(err(line, "empty gauge code".into()));
        }
        gauges.push(GaugeSpec { code, x: num(ix)?, y: num(iy)?, area: num(ia)? * 1e6 });
    }
    if gauges.is_empty() {
        return Err(err(hline, "no gauge listed after the header".into()));
    }
    Ok(gauges)
}

/// Comma-separated fields, trimmed, with surrounding double quotes removed.
fn split(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|f| {
        let f = f.trim();
        f.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap_or(f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smash_csv() {
        let text = "code,x,y,area\nV3524010,840261,6457807,381.7\n\"V3515010\", 826553 ,6467115,107\n\n";
        let g = parse_gauge_attributes(text, Path::new("g.csv")).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].code, "V3524010");
        assert_eq!((g[0].x, g[0].y), (840261.0, 6457807.0));
        assert_eq!(g[0].area, 381.7 * 1e6);
        assert_eq!(g[1].code, "V3515010");
        assert_eq!(g[1].area, 107e6);
    }

    #[test]
    fn columns_in_any_order() {
        let text = "area,code,name,y,x\n25.3,V3517010,La Cance,6469198,828269\n";
        let g = parse_gauge_attributes(text, Path::new("g.csv")).unwrap();
        assert_eq!((g[0].x, g[0].y, g[0].area), (828269.0, 6469198.0, 25.3 * 1e6));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse_gauge_attributes("code,x,y\nA,1,2\n", Path::new("g.csv")).unwrap_err();
        assert_eq!(e.to_string(), "g.csv:1: missing column `area` in header `code,x,y` (expected code,x,y,area)");
        let e = parse_gauge_attributes("code,x,y,area\nA,1,2,3\nB,1,two,3\n", Path::new("g.csv")).unwrap_err();
        assert!(matches!(e, MeshError::GaugeAttributes { line: 3, .. }), "{e}");
        assert!(e.to_string().starts_with("g.csv:3: `y` = \"two\""), "{e}");
        let e = parse_gauge_attributes("code,x,y,area\nA,1,2\n", Path::new("g.csv")).unwrap_err();
        assert!(matches!(e, MeshError::GaugeAttributes { line: 2, .. }), "{e}");
        let e = read_gauge_attributes(Path::new("/nonexistent/g.csv")).unwrap_err();
        assert!(matches!(e, MeshError::Io { .. }) && e.to_string().contains("/nonexistent/g.csv"), "{e}");
    }
}

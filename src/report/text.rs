//! Text helpers: HTML escaping and number formatting for labels.

/// Escapes `s` for HTML text and attribute values (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Formats `v` with `sig` significant digits: plain notation for magnitudes in `[1e-3, 1e5)`,
/// scientific notation otherwise; trailing zeros are dropped.
pub(crate) fn fmt_sig(v: f64, sig: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞".into() } else { "−∞".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let sig = sig.max(1);
    let e = v.abs().log10().floor() as i32;
    if (-3..5).contains(&e) {
        let decimals = (sig as i32 - 1 - e).max(0) as usize;
        trim_zeros(format!("{v:.decimals$}"))
    } else {
        let s = format!("{:.*e}", sig - 1, v);
        match s.split_once('e') {
            Some((m, x)) => format!("{}e{x}", trim_zeros(m.to_string())),
            None => s,
        }
    }
}

/// Formats a tick value `v` of an axis whose ticks are `step` apart and whose largest magnitude is
/// `max_abs`, with just enough decimals to tell neighbouring ticks apart.
pub(crate) fn fmt_tick(v: f64, step: f64, max_abs: f64) -> String {
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    let step_exp = step.abs().log10().floor() as i32;
    let max_exp = if max_abs > 0.0 { max_abs.log10().floor() as i32 } else { 0 };
    if max_exp >= 6 || step_exp < -4 {
        let digits = (max_exp - step_exp).clamp(0, 6) as usize;
        let shown = if v == 0.0 { 0.0 } else { v };
        let s = format!("{shown:.digits$e}");
        return if v == 0.0 { "0".into() } else { s };
    }
    let decimals = (-step_exp).max(0) as usize;
    format!("{v:.decimals$}")
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script> 'q'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; &#39;q&#39;"
        );
        assert_eq!(escape("Y3204040 — débit"), "Y3204040 — débit");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(fmt_sig(0.0, 4), "0");
        assert_eq!(fmt_sig(1234.5678, 4), "1235");
        assert_eq!(fmt_sig(0.834512, 3), "0.835");
        assert_eq!(fmt_sig(2.5, 4), "2.5");
        assert_eq!(fmt_sig(-0.012345, 3), "-0.0123");
        assert_eq!(fmt_sig(1.5e-7, 3), "1.5e-7");
        assert_eq!(fmt_sig(123456.0, 3), "1.23e5");
        assert_eq!(fmt_sig(f64::NAN, 3), "NaN");
    }

    #[test]
    fn tick_labels() {
        assert_eq!(fmt_tick(200.0, 50.0, 400.0), "200");
        assert_eq!(fmt_tick(0.4, 0.2, 1.0), "0.4");
        assert_eq!(fmt_tick(0.05, 0.05, 0.3), "0.05");
        assert_eq!(fmt_tick(1e-17, 0.1, 1.0), "0.0");
        assert_eq!(fmt_tick(2.5e6, 5e5, 3e6), "2.5e6");
    }
}

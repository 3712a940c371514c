//! The page around the figures: head (content security policy, stylesheet, error collector), the
//! summary table, the section layout and the render check run on load.

use std::fmt::Write;

use super::text::escape;

/// Forbids every network or file load: only inline styles and scripts and `data:` images are allowed.
const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

const STYLE: &str = r#"
:root{color-scheme:light;--fg:#1d2430;--muted:#5b6573;--line:#d8dde4;--bg:#f4f6f9;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:var(--card);border-bottom:1px solid var(--line);padding:18px 32px}
header h1{margin:0;font-size:24px;font-weight:650}
header p{margin:2px 0 0;color:var(--muted);font-size:13px}
nav a{color:#1f6fb4;text-decoration:none;margin-right:14px}
main{max-width:1200px;margin:0 auto;padding:4px 32px 40px}
h2{font-size:18px;margin:28px 0 12px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:0;font-weight:600}
figure{margin:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:0 0 16px}
figcaption{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;margin-bottom:4px}
.meta{margin:0;color:var(--muted);font-size:13px}
.scores{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px}
.scores li{background:#edf1f6;border-radius:12px;padding:0 10px;font-size:13px}
table.summary{border-collapse:separate;border-spacing:0;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px}
.summary th,.summary td{padding:6px 14px;border-bottom:1px solid #eceff3;text-align:left;vertical-align:top}
.summary tr:last-child th,.summary tr:last-child td{border-bottom:none}
.summary th{width:26%;color:var(--muted);font-weight:600}
.summary td{font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
svg.plot{display:block;width:100%;height:auto}
svg text{font-family:inherit;fill:#333}
.tick{font-size:11px;fill:#5b6573}
.axis-title{font-size:12px}
.legend text{font-size:12px}
.grid{stroke:#edf0f4;stroke-width:1;fill:none}
.axis{stroke:#8a94a3;stroke-width:1;fill:none}
.s-obs{stroke:#1d2430}
.s-before{stroke:#e0892b;stroke-dasharray:6 3}
.s-after{stroke:#1f6fb4}
.s-stage0{stroke:#1f6fb4;fill:#1f6fb4}
.s-stage1{stroke:#d1495b;fill:#d1495b}
.s-stage2{stroke:#2a9d8f;fill:#2a9d8f}
.s-stage3{stroke:#e0892b;fill:#e0892b}
.s-stage4{stroke:#6a4c93;fill:#6a4c93}
.s-stage5{stroke:#5b6573;fill:#5b6573}
.s-validation{stroke:#2b2d42;stroke-dasharray:5 3}
.series{fill:none;stroke-width:1.3;stroke-linejoin:round;stroke-linecap:round}
.s-obs.series{stroke-width:1.1}
.legend path{fill:none;stroke-width:2.5}
.marker{stroke:none}
.boundary{stroke:#9aa3af;stroke-dasharray:4 4;fill:none}
.boundary-label{font-size:11px;fill:#5b6573}
.note{font-size:14px;fill:#8a94a3}
.maps{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}
.maps .card{margin:0}
.map-body{display:flex;gap:8px;align-items:flex-start}
img.map{display:block;flex:1 1 auto;min-width:0;max-width:100%;height:auto;background:#e4e7eb;border:1px solid var(--line)}
img.pixelated{image-rendering:pixelated}
svg.colorbar{flex:0 0 84px;width:84px;height:auto}
.colorbar .tick{font-size:12px}
.colorbar .unit{font-size:12px;fill:#5b6573}
.inactive{fill:#e4e7eb}
.s-best{stroke:#d1495b}
.s-median{stroke:#1f6fb4}
.band{fill:#1f6fb4;fill-opacity:.22;stroke:none}
.legend path.s-band{stroke:#1f6fb4;stroke-opacity:.3;stroke-width:9}
.dots{fill:none;stroke:#8a94a3;stroke-opacity:.5;stroke-width:3.5;stroke-linecap:round}
.dots-b{stroke:#d1495b;stroke-opacity:.85}
.dots-f{stroke:#1f6fb4;stroke-opacity:.9}
.chosen{fill:none;stroke:#d1495b;stroke-width:2}
.bars{fill:#1f6fb4;fill-opacity:.75;stroke:#fff;stroke-width:.5}
.search-stage{margin:0 0 28px}
.stage-title{font-size:16px;margin:0 0 2px}
h4{font-size:14px;margin:0 0 6px;font-weight:600}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:8px 16px}
table.stats,table.corr{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
.stats th,.stats td{padding:3px 10px;border-bottom:1px solid #eceff3;text-align:right}
.stats tr th:first-child{text-align:left}
.corr th,.corr td{padding:4px 8px;text-align:center;min-width:58px}
.corr td.light{color:#fff}
.flag{color:#b00020;font-weight:600}
.error{color:#b00020}
.empty{color:var(--muted)}
"#;

/// Runs first: collects script errors, failed loads, blocked requests and `console.error` calls.
const COLLECT: &str = r#"
window.__renderCheck={errors:[],done:false};
(function(rc){
  rc.add=function(m){rc.errors.push(String(m));if(rc.done)rc.write();};
  window.addEventListener('error',function(e){
    var t=e.target;
    if(t&&t!==window&&t.tagName){rc.add('failed to load <'+t.tagName.toLowerCase()+'> '+(t.id||''));}
    else{rc.add('error: '+e.message+' at '+e.lineno+':'+e.colno);}
  },true);
  window.addEventListener('unhandledrejection',function(e){rc.add('unhandled rejection: '+e.reason);});
  document.addEventListener('securitypolicyviolation',function(e){rc.add('blocked: '+e.blockedURI+' ('+e.violatedDirective+')');});
  var ce=console.error;
  console.error=function(){rc.add('console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
})(window.__renderCheck);
"#;

/// Runs on load: every plot has a box and paths, every map image decoded at its declared size.
/// The result goes into `<pre id="render-check">` as `{"plots":N,"search":S,"maps":M,"errors":[...]}`,
/// `S` the rendered plots of the search stages (counted in `N` too).
const CHECK: &str = r#"
window.addEventListener('load',function(){
  var rc=window.__renderCheck,plots=0,search=0,maps=0;
  document.querySelectorAll('svg.plot').forEach(function(s){
    var r=s.getBoundingClientRect();
    if(r.width>0&&r.height>0&&s.querySelectorAll('path').length>0){plots++;if(s.closest('#search')){search++;}}
    else{rc.errors.push('plot '+s.id+' did not render');}
  });
  document.querySelectorAll('img.map').forEach(function(m){
    if(m.complete&&m.naturalWidth>0&&m.naturalWidth==m.getAttribute('width')&&m.naturalHeight==m.getAttribute('height')){maps++;}
    else{rc.errors.push('map '+m.id+' did not decode');}
  });
  rc.write=function(){document.getElementById('render-check').textContent=JSON.stringify({plots:plots,search:search,maps:maps,errors:rc.errors});};
  rc.done=true;
  rc.write();
});
"#;

/// The sections of the page, already rendered.
pub(crate) struct Sections {
    pub hydrographs: Vec<String>,
    pub cost: String,
    pub maps: Vec<String>,
    /// One article per search stage (the section is left out when there is none).
    pub searches: Vec<String>,
}

/// The whole HTML document.
pub(crate) fn document(title: &str, summary: &[(String, String)], sections: &Sections) -> String {
    let title = escape(title);
    let mut out = String::with_capacity(
        64 * 1024
            + sections
                .hydrographs
                .iter()
                .chain(&sections.maps)
                .chain(&sections.searches)
                .map(String::len)
                .sum::<usize>(),
    );
    let _ = write!(
        out,
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{title}</title>\n<style>{style}</style>\n<script>{collect}</script>\n</head>\n<body>\n",
            "<header><h1>{title}</h1><p>hydrograd calibration report</p>",
            "<nav><a href=\"#summary\">Summary</a><a href=\"#hydrographs\">Hydrographs</a>",
            "<a href=\"#cost\">Cost</a>{search_link}<a href=\"#maps\">Parameter maps</a></nav></header>\n<main>\n"
        ),
        csp = CSP,
        title = title,
        style = STYLE,
        collect = COLLECT,
        search_link = if sections.searches.is_empty() { "" } else { "<a href=\"#search\">Search stages</a>" },
    );
    out.push_str("<section id=\"summary\"><h2>Summary</h2>");
    if summary.is_empty() {
        out.push_str("<p class=\"empty\">No summary.</p>");
    } else {
        out.push_str("<table class=\"summary\">");
        for (key, value) in summary {
            let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(key), escape(value));
        }
        out.push_str("</table>");
    }
    out.push_str("</section>\n<section id=\"hydrographs\"><h2>Hydrographs</h2>\n");
    if sections.hydrographs.is_empty() {
        out.push_str("<p class=\"empty\">No gauges.</p>");
    }
    for figure in &sections.hydrographs {
        out.push_str(figure);
        out.push('\n');
    }
    let _ = write!(out, "</section>\n<section id=\"cost\"><h2>Cost</h2>\n{}\n</section>\n", sections.cost);
    if !sections.searches.is_empty() {
        out.push_str("<section id=\"search\"><h2>Search stages</h2>\n");
        for article in &sections.searches {
            out.push_str(article);
            out.push('\n');
        }
        out.push_str("</section>\n");
    }
    out.push_str("<section id=\"maps\"><h2>Parameter maps</h2>\n");
    if sections.maps.is_empty() {
        out.push_str("<p class=\"empty\">No parameter maps.</p>");
    } else {
        out.push_str("<div class=\"maps\">\n");
        for figure in &sections.maps {
            out.push_str(figure);
            out.push('\n');
        }
        out.push_str("</div>");
    }
    let _ = write!(
        out,
        "</section>\n</main>\n<pre id=\"render-check\" hidden></pre>\n<script>{CHECK}</script>\n</body>\n</html>\n"
    );
    out
}

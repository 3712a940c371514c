use super::*;

const VALID: &str = r#"
[setup]
hydrological_module = "gr4"
routing_module = "lr"
dt = 3600
start_time = "2014-09-15 00:00"
end_time = "2014-11-14 00:00"
prcp_directory = "Cance/prcp"
prcp_conversion_factor = 0.1
pet_directory = "/data/Cance/pet"
daily_interannual_pet = true
[mesh]
flwdir = "France_flwdir.tif"
gauge_attributes = "Cance/gauge_attributes.csv"
[parameters]
cp = 250.0
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("/work/cfg/cance.toml"))
}

fn message(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn valid_config_resolves_paths_and_defaults() {
    let c = parse(VALID).unwrap();
    assert_eq!(c.time.ntime, 1440);
    assert_eq!(c.atmos.prcp_directory, Path::new("/work/cfg/Cance/prcp"));
    assert_eq!(c.atmos.pet_directory, Path::new("/data/Cance/pet"));
    assert_eq!(c.atmos.pet_conversion_factor, 1.0);
    assert_eq!(c.atmos.missing_forcing_file, MissingFile::Error);
    assert!(c.adjust_interception);
    assert_eq!(c.structure.name(), "gr4-lr");
    assert_eq!(c.parameters.uniform, vec![("cp".to_string(), 250.0)]);
    assert_eq!(c.mesh.flwdir(), Path::new("/work/cfg/France_flwdir.tif"));
    assert_eq!(c.hash.len(), 64);
}

#[test]
fn misspelt_key_is_named_with_its_line() {
    let m = message(&VALID.replace("prcp_conversion_factor", "prcp_conversion_factr"));
    assert!(m.contains("unknown field `prcp_conversion_factr`"), "{m}");
    assert!(m.contains("line 9"), "{m}");
    assert!(m.contains("cance.toml"), "{m}");
}

#[test]
fn malformed_toml_gives_the_line() {
    let m = message(&VALID.replace("dt = 3600", "dt = = 3600"));
    assert!(m.contains("line 5"), "{m}");
}

#[test]
fn non_positive_dt_is_rejected() {
    for bad in ["dt = 0", "dt = -3600", "dt = 1.5"] {
        let m = message(&VALID.replace("dt = 3600", bad));
        assert!(m.contains("[setup] dt"), "{m}");
    }
}

#[test]
fn end_before_start_is_rejected() {
    let m = message(&VALID.replace("2014-11-14 00:00", "2014-09-01 00:00"));
    assert!(m.contains("[setup] end_time") && m.contains("not after start_time"), "{m}");
    let m = message(&VALID.replace("2014-11-14 00:00", "14/11/2014"));
    assert!(m.contains("not a date"), "{m}");
}

#[test]
fn unknown_module_and_parameter_names_are_listed() {
    let m = message(&VALID.replace("\"lr\"", "\"lr2\""));
    assert!(m.contains("routing_module") && m.contains("zero, lag0, lr, kw"), "{m}");
    let m = message(&VALID.replace("cp = 250.0", "akw = 2.0"));
    assert!(m.contains("[parameters] akw") && m.contains("ci, cp, ct, kexc, llr"), "{m}");
    let m = message(&VALID.replace("cp = 250.0", "cp = -1.0"));
    assert!(m.contains("feasible"), "{m}");
}

#[test]
fn mesh_needs_exactly_one_source() {
    let m = message(&VALID.replace("gauge_attributes = \"Cance/gauge_attributes.csv\"", ""));
    assert!(m.contains("[mesh]"), "{m}");
    let bbox = VALID.replace(
        "gauge_attributes = \"Cance/gauge_attributes.csv\"",
        "bbox = [100000.0, 1250000.0, 6050000.0, 7125000.0]",
    );
    assert!(matches!(parse(&bbox).unwrap().mesh, MeshSource::Bbox { .. }));
    let inverted = bbox.replace("100000.0, 1250000.0", "1250000.0, 100000.0");
    assert!(message(&inverted).contains("[mesh] bbox"));
}

#[test]
fn zones_resolve_against_the_config_folder_and_need_the_zones_mapping() {
    use crate::calibration::control::{Mapping, ZoneSource};
    let stage = |mapping: &str, zones: &str| {
        format!("{VALID}[[train.stage]]\nmapping = \"{mapping}\"\n[train.stage.optimize_options]\n{zones}\n")
    };
    let c = parse(&stage("zones", "")).unwrap();
    assert_eq!((c.stages[0].mapping, &c.stages[0].zones), (Mapping::Zones, &None));
    assert_eq!(c.stages[0].optimizer_name(), "lbfgsb");
    let c = parse(&stage("zones", "zones = \"gauges\"")).unwrap();
    assert_eq!(c.stages[0].zones, Some(ZoneSource::Gauges));
    let c = parse(&stage("zones", "zones = \"geology/zones.tif\"")).unwrap();
    assert_eq!(c.stages[0].zones, Some(ZoneSource::Raster("/work/cfg/geology/zones.tif".into())));
    let m = message(&stage("distributed", "zones = \"gauges\""));
    assert!(m.contains("optimize_options.zones") && m.contains("only the zones mapping"), "{m}");
    let m = message(&stage("zone", ""));
    assert!(m.contains("uniform, distributed, zones, multi-linear"), "{m}");
}

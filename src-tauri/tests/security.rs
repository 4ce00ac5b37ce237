//! Pins the app's security configuration: the main window's capability grants the
//! app's own commands and nothing else, and the CSP allows no eval, no inline script
//! and no `data:` or `blob:` script sources.

use std::path::Path;

use serde_json::Value;
use xunying_app::commands::COMMANDS;

fn read_json(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} is unreadable: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is invalid JSON: {e}", path.display()))
}

#[test]
fn capability_grants_only_app_commands() {
    let capability = read_json("capabilities/main.json");
    let granted: Vec<&str> = capability["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let expected: Vec<String> = COMMANDS.iter().map(|name| format!("allow-{}", name.replace('_', "-"))).collect();

    assert_eq!(granted, expected);
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    assert!(capability.get("remote").is_none(), "no remote origin may call the commands");
}

#[test]
fn csp_forbids_eval_and_inline_scripts() {
    let config = read_json("tauri.conf.json");
    let csp = &config["app"]["security"]["csp"];
    let script_src = csp["script-src"].as_str().expect("the CSP sets script-src");

    for forbidden in ["'unsafe-eval'", "'unsafe-inline'", "'wasm-unsafe-eval'", "data:", "blob:", "*", "http:", "https:"] {
        assert!(!script_src.split_whitespace().any(|source| source == forbidden), "script-src allows {forbidden}");
    }
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    assert!(config["app"]["security"].get("dangerousDisableAssetCspModification").is_none());
}

#[test]
fn asset_protocol_stays_off() {
    let config = read_json("tauri.conf.json");

    // Photos reach the webview only through the `photo:` scheme, by catalog id.
    let enabled = config["app"]["security"]["assetProtocol"]["enable"].as_bool().unwrap_or(false);
    assert!(!enabled, "the asset protocol would let the webview read files by path");
}

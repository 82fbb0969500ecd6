//! Plan text (TOML or YAML, picked by the first byte) through the whole parser: syntax,
//! schema, validation, template compilation and error positions. Any input must give a plan
//! or a `PlanError`, never a panic.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&format, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    // A data file naming a device (`/dev/zero`) would be read forever: not the parser's
    // problem, and not something fuzzing should spend its time on.
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    let file = if format % 2 == 0 {
        "fuzz.toml"
    } else {
        "fuzz.yaml"
    };
    if let Err(e) = surge::plan::parse(text, Path::new(file)) {
        // Every message names the file it is about.
        assert!(e.to_string().starts_with(file), "{e}");
    }
});

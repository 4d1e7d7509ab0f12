//! config.v2.json and hostconfig.json as the daemon writes them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout::docker::containers::{apply_config, apply_hostconfig};
use whiteout::docker::Container;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut c = Container::default();
    apply_config(&mut c, &v);
    apply_hostconfig(&mut c, &v);
    if let Some(h) = v.get("HostConfig") {
        apply_hostconfig(&mut c, h);
    }
    let _ = c.display_name();
    let _ = c.short_id();
    let _ = serde_json::to_string(&c);
});

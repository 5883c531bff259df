//! Let the test and example binaries find a shared libpython at run time.
//!
//! PyO3 links libpython but leaves finding it to the dynamic loader, which
//! does not look in a pyenv or a venv-less prefix such as
//! `~/.pyenv/versions/3.11.7/lib`. This adds that directory (asked of the
//! interpreter PyO3 uses: `$PYO3_PYTHON`, else `python3`) to the rpath of
//! this crate's own binaries, so `cargo test --workspace` runs without
//! `LD_LIBRARY_PATH`. Nothing is emitted when the interpreter is not found
//! (PyO3's own build then reports it).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_config_var('LIBDIR') or '')",
        ])
        .output();
    if let Ok(out) = out {
        let libdir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !libdir.is_empty() && cfg!(unix) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{libdir}");
        }
    }
}

//! The one command-line option the examples share: where to listen.

/// Where an example listens unless told otherwise.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:8000";

/// `--addr HOST:PORT` (or `--addr=HOST:PORT`), else `GATEWAY_ADDR`, else
/// [`DEFAULT_ADDR`]; an unknown argument is an error to show with the usage.
pub(crate) fn listen_addr() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let mut chosen = std::env::var("GATEWAY_ADDR").ok();
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            chosen = Some(args.next().ok_or("--addr needs HOST:PORT")?);
        } else if let Some(value) = arg.strip_prefix("--addr=") {
            chosen = Some(value.to_owned());
        } else {
            return Err(format!("unknown argument {arg:?}"));
        }
    }
    Ok(chosen.unwrap_or_else(|| DEFAULT_ADDR.to_owned()))
}

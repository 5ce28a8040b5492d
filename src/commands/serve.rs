//! `rl-search serve`: the web reader (see [`crate::serve`]).

use anyhow::Result;

use super::Exit;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::serve::{self, ServeOptions};

pub fn command(cfg: &Config, args: &ServeArgs) -> Result<Exit> {
    serve::run(
        cfg,
        &ServeOptions {
            bind: args.bind,
            port: args.port,
            open: args.open,
            allow_hosts: args.allow_hosts.clone(),
        },
    )?;
    Ok(Exit::Success)
}

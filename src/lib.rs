//! rl-search: a Markdown reading list becomes a local, offline, searchable library.
//!
//! The pipeline, one module per stage: [`list`] (Markdown → links) → [`resolve`] (URL rules) →
//! [`fetch`] → [`extract`] → [`assemble`] → [`store`] → [`index`] → [`search`]. Only
//! [`commands`] wires stages together; only [`cli`] knows clap; only [`output`] prints results.

pub mod analysis;
pub mod assemble;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod embed;
pub mod errors;
pub mod extract;
pub mod fetch;
pub mod index;
pub mod library;
pub mod list;
pub mod markup;
pub mod neighbours;
pub mod output;
pub mod passages;
pub mod resolve;
pub mod search;
pub mod store;
pub mod terminal;
pub mod vectors;

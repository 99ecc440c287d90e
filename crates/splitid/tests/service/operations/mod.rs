//! Running the service: the operators' tools, many nodes, metrics, configuration, the demo, the load tool, HTTPS.

mod admin_tool;
mod configuration;
mod demo;
mod loadtest;
mod many_nodes;
mod metrics_access;
mod observability;
pub(crate) mod tls;
mod upgrade;

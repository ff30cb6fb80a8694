//! End-to-end test harness: the real `switchyard` binary on loopback ports, and mock
//! providers that speak each provider's wire format. No fixed ports, no globals: every test
//! starts its own gateway and mocks.
// Test support: failing loudly with the gateway's log is the point.
#![allow(clippy::panic, clippy::expect_used)]

pub mod answer;
pub mod anthropic;
pub mod bedrock;
pub mod cases;
pub mod config;
pub mod gateway;
pub mod gemini;
pub mod http;
pub mod matrix;
pub mod mock;
pub mod openai;
pub mod providers;
pub mod redis;
pub mod sigv4;
pub mod tls;
pub mod tools;

pub use gateway::{configmap_write, free_port, Gateway, GatewayBuilder, RefusedPort};
pub use mock::{Gate, MockProvider, Received, Reply};
pub use redis::RedisServer;

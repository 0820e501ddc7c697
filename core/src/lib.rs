//! # picoauth
//!
//! A sans-IO OAuth 2.0 token-exchange client that runs on a microcontroller and on a
//! server alike: `#![no_std]`, no `alloc`, no `unsafe`, and no panics on any input.
//!
//! It speaks to Slack `oauth.v2.access` (code exchange and token rotation), the legacy
//! Slack `oauth.access`, Pinterest v5 `POST /v5/oauth/token`, and any RFC 6749 token
//! endpoint.
//!
//! ## Layers
//!
//! | layer | module | what it does |
//! |---|---|---|
//! | form encoding | [`form`] | `application/x-www-form-urlencoded` encode and decode |
//! | client authentication | [`basic`] | the RFC 6749 §2.3.1 HTTP Basic value |
//! | providers | [`provider`] | each endpoint's host, path and quirks as `const` data |
//! | requests | [`request`], [`http::request`] | the token request: body, header, whole HTTP/1.1 request |
//! | responses | [`http::response`] | incremental HTTP/1.1 response reading into a fixed buffer |
//! | bodies | [`json`] | token and error bodies into borrowed, redacting views |
//! | driver | [`exchange`] | encode → write → read → parse over `embedded-io` |
//!
//! Every encoder has an `encoded_len()` that tells the exact size before anything is
//! written, and an `encode(&mut [u8])` that leaves the buffer untouched and returns
//! [`EncodeError::BufferTooSmall`] with the size it needed when the buffer is short.
//!
//! ## Example
//!
//! ```
//! use picoauth::{provider, request::{ClientAuth, Grant, TokenRequest}};
//!
//! let req = TokenRequest::new(
//!     &provider::SLACK_V2,
//!     ClientAuth::basic("111.222", "secret".into()),
//!     Grant::authorization_code("ccdaa72ad"),
//! );
//! let mut buf = [0u8; 512];
//! let n = req.encode(&mut buf).unwrap();
//! assert_eq!(n, req.encoded_len().unwrap());
//! assert!(buf[..n].starts_with(b"POST /api/oauth.v2.access HTTP/1.1\r\nHost: slack.com\r\n"));
//! ```
//!
//! MSRV: Rust 1.88.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod authorize;
pub mod basic;
pub mod callback;
mod codes;
pub mod error;
pub mod exchange;
pub mod form;
pub mod http;
pub mod json;
pub mod pkce;
pub mod provider;
#[cfg(feature = "provision")]
pub mod provision;
pub mod request;
pub mod secret;
mod sink;
pub mod state;
#[cfg(feature = "token-set")]
pub mod token_set;

pub use error::{BufferTooSmall, EncodeError};
pub use secret::ClientSecret;

/// The Rust examples of the top-level README, compiled and run as doc tests so they
/// cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

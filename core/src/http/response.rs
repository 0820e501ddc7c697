//! Incremental HTTP/1.1 response reading (being written).

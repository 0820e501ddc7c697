//! JSON token and error bodies (being written).

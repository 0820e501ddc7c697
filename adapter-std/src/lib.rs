//! picoauth on std: real HTTPS token exchanges over rustls.

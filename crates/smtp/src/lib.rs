//! smtp (being written)

//! blob (being written)

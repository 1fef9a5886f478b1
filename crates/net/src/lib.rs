//! net (being written)

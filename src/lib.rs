//! rhetor

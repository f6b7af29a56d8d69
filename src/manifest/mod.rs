//! The release manifest (to be written).

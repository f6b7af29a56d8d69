//! Streaming deliverables: platform profiles, encoders, tags, artwork and
//! metadata sheets. (Not built yet.)

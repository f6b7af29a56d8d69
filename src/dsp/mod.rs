//! The mastering DSP stages. Each stage allocates in `new()` and processes
//! caller-owned planar stereo blocks in place.

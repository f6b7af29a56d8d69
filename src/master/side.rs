//! A pass's side work on a second thread: the blocks a pass produces
//! are copied to a thread of its own that runs `side` on each, in order,
//! while the pass goes on. What a one-track build (a single reference
//! match, say) does with the core its pool would leave idle; with as
//! many tracks as threads the pool is busy and the side work runs inline.
//! Either way `side` sees the same blocks in the same order, so its
//! figures are the same to the bit.
//!
//! Blocks go through a bounded channel and come back to be reused: a few
//! block buffers per pass, allocated once.

use std::sync::mpsc::{sync_channel, Receiver};

use super::MasterError;
use crate::audio::Block;

/// Blocks in flight between the pass and its side thread.
const IN_FLIGHT: usize = 4;

/// Runs `body`, handing it a function that sends each block to `side`.
/// With `threaded`, `side` runs on a scoped thread of its own; else in
/// line. The first error of either is returned; a side that fails stops
/// the pass at its next block.
pub(super) fn with_side<R: Send>(
    threaded: bool,
    mut side: impl FnMut(&Block) -> Result<(), MasterError> + Send,
    body: impl FnOnce(&mut dyn FnMut(&Block) -> Result<(), MasterError>) -> Result<R, MasterError>,
) -> Result<R, MasterError> {
    if !threaded {
        return body(&mut side);
    }
    let (to_side, from_pass) = sync_channel::<Block>(IN_FLIGHT);
    let (to_pass, spare) = sync_channel::<Block>(IN_FLIGHT + 1);
    std::thread::scope(|s| {
        let worker = s.spawn(move || -> Result<(), MasterError> {
            for block in from_pass.iter() {
                side(&block)?;
                // The pass may have finished and dropped its end.
                let _ = to_pass.try_send(block);
            }
            Ok(())
        });
        let mut made = 0;
        let mut send = |b: &Block| -> Result<(), MasterError> {
            let mut copy = take_spare(&spare, &mut made, b.len());
            copy.clear();
            copy.left.extend_from_slice(&b.left);
            copy.right.extend_from_slice(&b.right);
            // Fails only when the side thread has stopped on an error,
            // which its join below returns.
            to_side.send(copy).map_err(|_| side_stopped())
        };
        let result = body(&mut send);
        drop(to_side);
        let side_result = worker.join().unwrap_or_else(|_| Err(side_stopped()));
        match (result, side_result) {
            (Ok(r), Ok(())) => Ok(r),
            (_, Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
        }
    })
}

/// A buffer back from the side thread, or a new one while fewer than
/// `IN_FLIGHT + 1` exist (then the pass waits for one to come back).
fn take_spare(spare: &Receiver<Block>, made: &mut usize, frames: usize) -> Block {
    if let Ok(b) = spare.try_recv() {
        return b;
    }
    if *made <= IN_FLIGHT {
        *made += 1;
        return Block::with_capacity(frames);
    }
    spare
        .recv()
        .unwrap_or_else(|_| Block::with_capacity(frames))
}

fn side_stopped() -> MasterError {
    MasterError::Track {
        track: 0,
        message: "a metering thread stopped".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks() -> Vec<Block> {
        (0..50)
            .map(|k| {
                let n = 100 + 37 * (k % 5);
                let mut b = Block::with_capacity(n);
                for i in 0..n {
                    b.left.push((k * 1000 + i) as f64);
                    b.right.push(-((k * 1000 + i) as f64));
                }
                b
            })
            .collect()
    }

    #[test]
    fn the_side_sees_every_block_in_order_threaded_or_not() {
        let input = blocks();
        for threaded in [false, true] {
            let mut seen: Vec<(f64, f64, usize)> = Vec::new();
            let sum = with_side(
                threaded,
                |b| {
                    seen.push((b.left[0], b.right[b.len() - 1], b.len()));
                    Ok(())
                },
                |send| {
                    let mut total = 0;
                    for b in &input {
                        send(b)?;
                        total += b.len();
                    }
                    Ok(total)
                },
            )
            .unwrap();
            assert_eq!(sum, input.iter().map(Block::len).sum::<usize>());
            let want: Vec<_> = input
                .iter()
                .map(|b| (b.left[0], b.right[b.len() - 1], b.len()))
                .collect();
            assert_eq!(seen, want, "threaded {threaded}");
        }
    }

    #[test]
    fn a_failing_side_stops_the_pass_with_its_error() {
        let input = blocks();
        let mut n = 0;
        let r = with_side(
            true,
            |_| {
                n += 1;
                if n == 3 {
                    Err(MasterError::Track {
                        track: 7,
                        message: "disk full".into(),
                    })
                } else {
                    Ok(())
                }
            },
            |send| {
                for b in &input {
                    send(b)?;
                }
                Ok(())
            },
        );
        match r {
            Err(MasterError::Track { track, message }) => {
                assert_eq!((track, message.as_str()), (7, "disk full"))
            }
            other => panic!("{other:?}"),
        }
    }
}

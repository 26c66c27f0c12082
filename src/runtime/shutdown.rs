//! SIGINT/SIGTERM: a plain thread waits for the signal and tells every shard to stop (glommio has no signal API).

use futures_channel::oneshot;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Installs the handler; returns one stop receiver per shard. A second signal exits at once.
pub fn install(shards: usize) -> Result<Vec<oneshot::Receiver<()>>, String> {
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..shards).map(|_| oneshot::channel::<()>()).unzip();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut senders = Some(senders);
            for signal in signals.forever() {
                match senders.take() {
                    Some(senders) => {
                        log::info!("signal {signal}: flushing and stopping");
                        for sender in senders {
                            let _ = sender.send(());
                        }
                    }
                    None => {
                        log::warn!("second signal {signal}: exiting without waiting for the flush");
                        std::process::exit(1);
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(receivers)
}

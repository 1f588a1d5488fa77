//! A TCP proxy a test can cut and restore, to make a real dependency (PostgreSQL,
//! S3) unreachable without stopping the shared service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl TcpProxy {
    /// Forwards `127.0.0.1:<port>` to `target` ("host:port") until cut.
    pub async fn start(target: String) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        listener
            .set_nonblocking(true)
            .expect("nonblocking proxy socket");
        let port = listener.local_addr().expect("proxy address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let (cut2, gen_rx) = (cut.clone(), generation.subscribe());
        let mut stop_rx = generation.subscribe();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("proxy listener");
                loop {
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        // The proxy was dropped: stop serving (a cut just loops).
                        changed = stop_rx.changed() => match changed {
                            Ok(()) => continue,
                            Err(_) => break,
                        },
                    };
                    let Ok((inbound, _)) = accepted else {
                        continue;
                    };
                    if cut2.load(Ordering::SeqCst) {
                        drop(inbound); // refused: the dependency is "down"
                        continue;
                    }
                    let mut gen_rx = gen_rx.clone();
                    gen_rx.mark_unchanged(); // only cuts after this connection count
                    let target = target.clone();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(&target).await else {
                            return;
                        };
                        let mut inbound = inbound;
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = gen_rx.changed() => {} // cut: drop both ends
                        }
                    });
                }
            });
        });
        Self {
            port,
            cut,
            generation,
        }
    }

    /// Closes every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

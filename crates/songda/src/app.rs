//! The application as a value that tests start on port 0 (house style 6).

use crate::config::Settings;
use crate::state::AppState;
use songda_core::Clock;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub struct App {
    pub state: AppState,
    listener: TcpListener,
    pub addr: SocketAddr,
}

impl App {
    /// Opens the data dir and binds the listener; nothing runs until [`App::run`].
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let listen = settings.listen;
        let public = settings.public_url.clone();
        let state = AppState::open(settings, clock).await?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        state.set_public_url(public.unwrap_or_else(|| format!("http://{addr}")));
        Ok(Self {
            state,
            listener,
            addr,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves requests (and, with `worker`, delivers notifications and signs tree heads) until the process is
    /// told to stop.
    pub async fn run(self, worker: bool) -> anyhow::Result<()> {
        if worker {
            tokio::spawn(crate::jobs::outbox::run(self.state.clone()));
            tokio::spawn(crate::jobs::receipts::run(self.state.clone()));
            tokio::spawn(crate::log::run_sequencer(self.state.clone()));
            tokio::spawn(crate::log::run_timestamper(self.state.clone()));
        }
        let router = crate::http::router(self.state.clone());
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        self.state.store.close().await;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

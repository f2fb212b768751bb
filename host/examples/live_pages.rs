//! How many live pages one host holds, and what each costs.
//!
//! Starts the desktop with the embedded defaults (all six widgets) on a
//! loopback port, opens N server-sent event streams as open supervisor
//! pages do, holds them for a while, and reports the process's resident
//! memory and CPU time before and after (client sockets included, so the
//! per-page figure is an upper bound).
//!
//! ```sh
//! ulimit -n 16384
//! cargo run --release -p deskhost --example live_pages -- 2000 20
//! ```
//! Arguments: number of pages (default 2000), seconds to hold them (20).

use std::time::{Duration, Instant};

use deskhost::app::{self, LayoutSource};
use deskhost::config::HostConfig;
use deskhost::web::{self, AppState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of the process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let pages: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let hold: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    let data = tempfile::tempdir()?;
    let config = HostConfig {
        data_dir: data.path().to_owned(),
        ..HostConfig::default()
    };
    let desktops = app::build(&config, &LayoutSource::from_config(&config))?;
    let listener = web::bind(([127, 0, 0, 1], 0).into()).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(web::serve(
        listener,
        AppState::new(std::sync::Arc::new(desktops)),
        std::future::pending(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (rss0, cpu0) = (rss_kib(), cpu_seconds());
    let started = Instant::now();
    let mut streams = Vec::with_capacity(pages);
    for i in 0..pages {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        let req = format!(
            "GET /events?role=supervisor&team=sales&page=home&rendered_at=0 HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await?;
        streams.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let mut bytes = 0usize;
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                bytes += n;
            }
            bytes
        }));
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss1, cpu1) = (rss_kib(), cpu_seconds());
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let (rss2, cpu2) = (rss_kib(), cpu_seconds());
    let alive = streams.iter().filter(|h| !h.is_finished()).count();
    println!(
        "pages opened:            {pages} in {:.2} s",
        opened.as_secs_f64()
    );
    println!("pages still open:        {alive}");
    println!(
        "RSS before / after open: {} MiB / {} MiB",
        rss0 / 1024,
        rss1 / 1024
    );
    println!(
        "memory per live page:    {:.1} KiB",
        (rss1.saturating_sub(rss0)) as f64 / pages as f64
    );
    println!("RSS after holding {hold} s:  {} MiB", rss2 / 1024);
    println!(
        "CPU while holding:       {:.1} % of one core ({:.2} s over {hold} s)",
        (cpu2 - cpu1) / hold as f64 * 100.0,
        cpu2 - cpu1
    );
    println!("CPU to open them:        {:.2} s", cpu1 - cpu0);
    Ok(())
}

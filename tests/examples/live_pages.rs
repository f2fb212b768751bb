//! How many live pages a running host holds, and what each costs.
//!
//! Signs in N different supervisors to a running `deskhost serve`, opens
//! each one's home page live stream (server-sent events, one window each,
//! as N supervisors with the desktop open do), holds them, and samples the
//! server process's resident memory and CPU time from `/proc`: before, once
//! they are open, and every SAMPLE seconds while they are held. The
//! clients live in this process, so the server's figures are its own.
//!
//! `bench/load.sh live` and `bench/load.sh soak` run it:
//!
//! ```sh
//! live_pages accounts N > host.toml   # host config: the test accounts and N supervisors
//! live_pages run ADDR PID PAGES HOLD SAMPLE
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use deskhost_e2e::{Browser, DESKTOP, supervisor_accounts, test_accounts};

/// Resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
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

/// Signs in supervisor `i` and opens their home page's live stream; the
/// task counts the bytes received until the server closes it.
async fn open_page(base: String, i: usize) -> anyhow::Result<tokio::task::JoinHandle<usize>> {
    let mut b = Browser::new(&base);
    b.sign_in(&format!("load{i}@example.com"), DESKTOP).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let mut res = b
        .client
        .get(format!(
            "{base}/events?window=w{i}&page=home&rendered_at={now}"
        ))
        .header("accept", "text/event-stream")
        .send()
        .await?;
    if res.status() != 200 {
        bail!("the live stream of page {i} was refused: {}", res.status());
    }
    Ok(tokio::spawn(async move {
        let mut bytes = 0;
        while let Ok(Some(chunk)) = res.chunk().await {
            bytes += chunk.len();
        }
        bytes
    }))
}

async fn run(args: &[String]) -> anyhow::Result<()> {
    let [addr, pid, pages, hold, sample] = args else {
        bail!("usage: live_pages run ADDR PID PAGES HOLD SAMPLE");
    };
    let base = format!("http://{addr}");
    let pid: u32 = pid.parse().context("PID")?;
    let pages: usize = pages.parse().context("PAGES")?;
    let hold = Duration::from_secs(hold.parse().context("HOLD")?);
    let sample = Duration::from_secs(sample.parse::<u64>().context("SAMPLE")?.max(1));

    let (rss0, cpu0) = (rss_kib(pid), cpu_seconds(pid));
    let started = Instant::now();
    // Four sign-ins at a time: each hashes a password on purpose slowly.
    let mut streams = Vec::with_capacity(pages);
    for chunk in (1..=pages).collect::<Vec<_>>().chunks(4) {
        let opening: Vec<_> = chunk
            .iter()
            .map(|&i| tokio::spawn(open_page(base.clone(), i)))
            .collect();
        for o in opening {
            streams.push(o.await??);
        }
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss1, cpu1) = (rss_kib(pid), cpu_seconds(pid));
    println!(
        "pages opened:             {pages} (each a different signed-in supervisor) in {:.1} s",
        opened.as_secs_f64()
    );
    println!(
        "server RSS before / after: {:.1} / {:.1} MiB",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0
    );
    println!(
        "memory per live page:     {:.1} KiB (sessions included)",
        rss1.saturating_sub(rss0) as f64 / pages as f64
    );
    println!("server CPU to open them:  {:.1} s", cpu1 - cpu0);
    println!("held s  server RSS MiB  pages open");
    let held = Instant::now();
    while held.elapsed() < hold {
        tokio::time::sleep(hold.saturating_sub(held.elapsed()).min(sample)).await;
        let alive = streams.iter().filter(|h| !h.is_finished()).count();
        println!(
            "{:>6}  {:>14.1}  {alive:>10}",
            held.elapsed().as_secs(),
            rss_kib(pid) as f64 / 1024.0
        );
    }
    let cpu2 = cpu_seconds(pid);
    println!(
        "server CPU while holding: {:.1} % of one core ({:.1} s over {} s)",
        (cpu2 - cpu1) / hold.as_secs_f64() * 100.0,
        cpu2 - cpu1,
        hold.as_secs()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("accounts") => {
            let n: usize = args
                .get(1)
                .context("usage: live_pages accounts N")?
                .parse()?;
            let mut settings = toml::Table::new();
            settings.insert(
                "seed_accounts".into(),
                (test_accounts() + &supervisor_accounts("load", n)).into(),
            );
            let mut identity = toml::Table::new();
            identity.insert("plugin".into(), "local-directory".into());
            identity.insert("grants".into(), vec!["kv", "mail"].into());
            identity.insert("settings".into(), settings.into());
            let mut auth = toml::Table::new();
            auth.insert("identity".into(), identity.into());
            let mut config = toml::Table::new();
            config.insert("auth".into(), auth.into());
            print!("{}", toml::to_string(&config)?);
            Ok(())
        }
        Some("run") => run(&args[1..]).await,
        _ => bail!("usage: live_pages accounts N | live_pages run ADDR PID PAGES HOLD SAMPLE"),
    }
}

//! `figwatch-load workers --database sqlite --database postgres://…`: sources per second with
//! `figwatch run` workers on each store, against the same load server, side by side. For each
//! store and worker count, two rounds on a store that has already seen every feed once: a
//! changed round (every feed has one new entry: a full fetch, one new article, its extraction
//! and storage) and a 304 round (nothing changed).
//!
//! Worker start-up is not timed: every source is made due at one instant a few seconds ahead,
//! the workers are started before it (and must have said they are alive by then), and a round
//! runs from that instant until every source was polled. SQLite runs one worker (one file is
//! one daemon's); PostgreSQL runs each count asked for.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;

use super::server::Site;

pub struct Options {
    /// `sqlite` (a fresh file), an SQLite path, or a PostgreSQL URL.
    pub databases: Vec<String>,
    pub workers: Vec<usize>,
    pub concurrency: usize,
}

/// The store under test, read by the harness itself.
enum Db {
    Lite(rusqlite::Connection),
    Pg {
        client: tokio_postgres::Client,
        /// The server's URL (to drop the database made for the run).
        admin: String,
        name: String,
    },
}

/// A client on `url` for the benchmark's own statements.
async fn client(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| {
            format!(
                "cannot connect to {}",
                figwatch::store::migrate::redact(url)
            )
        })?;
    tokio::spawn(connection);
    Ok(client)
}

impl Db {
    /// A fresh store for `database`; returns it with the `database` value for the config.
    async fn fresh(database: &str, dir: &Path) -> anyhow::Result<(Db, String)> {
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            let name = format!("figwatch_load_{}", std::process::id());
            let admin = client(database).await?;
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .await?;
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await?;
            let mut url = url::Url::parse(database)?;
            url.set_path(&name);
            // The schema is made by the first `figwatch --poll`; the harness connects after.
            return Ok((
                Db::Pg {
                    client: admin,
                    admin: database.to_string(),
                    name,
                },
                url.to_string(),
            ));
        }
        let path = match database {
            "sqlite" => dir.join("load.db"),
            path => PathBuf::from(path),
        };
        if path.exists() {
            bail!(
                "{}: already exists; figwatch-load workers measures a fresh store",
                path.display()
            );
        }
        // Opened once the first poll has made it.
        let conn = rusqlite::Connection::open_in_memory()?;
        Ok((Db::Lite(conn), path.display().to_string()))
    }

    /// Connects to the store the first poll made.
    async fn attach(&mut self, database: &str) -> anyhow::Result<()> {
        match self {
            Db::Lite(conn) => {
                *conn = rusqlite::Connection::open(database)?;
                conn.busy_timeout(Duration::from_secs(30))?;
            }
            Db::Pg { client: c, .. } => *c = client(database).await?,
        }
        Ok(())
    }

    fn label(&self) -> &'static str {
        match self {
            Db::Lite(_) => "SQLite",
            Db::Pg { .. } => "PostgreSQL",
        }
    }

    /// The first column of the first row of `sql` (a count).
    async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        Ok(match self {
            Db::Lite(c) => c.query_row(sql, [], |r| r.get(0))?,
            Db::Pg { client, .. } => client.query_one(sql, &[]).await?.get(0),
        })
    }

    async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        match self {
            Db::Lite(c) => c.execute_batch(sql)?,
            Db::Pg { client, .. } => client.batch_execute(sql).await?,
        }
        Ok(())
    }

    async fn drop_database(self) {
        if let Db::Pg {
            admin,
            name,
            client: own,
        } = self
        {
            drop(own);
            if let Ok(admin) = client(&admin).await {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
}

fn write_config(dir: &Path, site: &Site, db: &str, concurrency: usize) -> anyhow::Result<PathBuf> {
    let mut text = format!(
        "database = \"{db}\"\ninterval = \"1h\"\nadaptive = false\njitter = 0.0\n\n[fetch]\ntimeout = \"30s\"\nconcurrency = {concurrency}\nper_host_delay = \"0s\"\nper_host_concurrency = 2\nallow_private = true\n\n"
    );
    for i in 0..site.feeds() {
        text += &format!("[[feeds]]\nurl = \"{}\"\n", site.feed_url(i));
    }
    text += figwatch::demo::TOPIC_TOML;
    let path = dir.join("figwatch.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The store's way of writing a time (a literal both databases compare as a time).
fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One round with `n` workers: every source due at an instant after they have started; the
/// time from that instant until every source was polled.
async fn round(
    binary: &Path,
    config: &Path,
    db: &Db,
    feeds: usize,
    n: usize,
) -> anyhow::Result<Duration> {
    // Start-up (reading 10,000 sources) takes a few seconds per worker on 2 cores.
    let lead = Duration::from_secs(3 + 2 * n as u64 + feeds as u64 / 2_000);
    let due = Utc::now() + chrono::Duration::from_std(lead)?;
    let due_at = stamp(due);
    db.execute(&format!(
        "UPDATE sources SET next_check_at = '{due_at}', lease_owner = NULL, lease_until = NULL;
         DELETE FROM workers;"
    ))
    .await?;
    let mut children = Vec::new();
    for k in 0..n {
        children.push(
            std::process::Command::new(binary)
                .env("RUST_LOG", "error")
                .env("FIGWATCH_WORKER_NAME", format!("load-{k}"))
                .arg("--config")
                .arg(config)
                .arg("run")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::inherit())
                .spawn()?,
        );
    }
    let started = Instant::now() + lead;
    let result = async {
        loop {
            let polled = db
                .count(&format!(
                    "SELECT count(*) FROM sources WHERE last_polled_at >= '{due_at}'"
                ))
                .await?;
            if polled as usize >= feeds {
                break;
            }
            if Instant::now() > started + Duration::from_secs(600) {
                bail!("only {polled} of {feeds} sources polled in 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = Instant::now().saturating_duration_since(started);
        // The workers must have been up before the round began, or their start was timed.
        let late = db
            .count(&format!(
                "SELECT count(*) FROM workers WHERE started_at > '{due_at}'"
            ))
            .await?;
        if late > 0 {
            bail!("{late} worker(s) started after the round began; their start-up was timed");
        }
        Ok(elapsed)
    }
    .await;
    for c in &mut children {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
    }
    for c in &mut children {
        c.wait()?;
    }
    result
}

/// Every store in turn; the 304 rates side by side at the end.
pub async fn run(site: Arc<Site>, binary: &Path, dir: &Path, o: &Options) -> anyhow::Result<()> {
    let feeds = site.feeds();
    println!(
        "workers: {feeds} feeds on {} loopback hosts, concurrency {} per worker, per-host concurrency 2 shared; worker start-up not timed",
        site.hosts.len(),
        o.concurrency
    );
    println!("store        workers   changed sources/s   304 sources/s");
    let mut one_worker_304 = Vec::new();
    for (i, database) in o.databases.iter().enumerate() {
        let home = dir.join(format!("store-{i}"));
        std::fs::create_dir_all(&home)?;
        let (mut db, url) = Db::fresh(database, &home).await?;
        let config = write_config(&home, &site, &url, o.concurrency)?;
        // First sight: one process fetches every feed and its articles once.
        let first = std::process::Command::new(binary)
            .env("RUST_LOG", "error")
            .arg("--config")
            .arg(&config)
            .args(["--poll", "--all"])
            .output()?;
        if !first.status.success() {
            bail!(
                "figwatch --poll --all failed: {}",
                String::from_utf8_lossy(&first.stderr)
            );
        }
        db.attach(&url).await?;
        let counts: Vec<usize> = match db {
            Db::Lite(_) => vec![1],
            Db::Pg { .. } => o.workers.clone(),
        };
        for n in counts {
            site.change(0..feeds);
            let changed = round(binary, &config, &db, feeds, n).await?;
            let not_modified = round(binary, &config, &db, feeds, n).await?;
            let rate = feeds as f64 / not_modified.as_secs_f64();
            println!(
                "{:<12} {n:>7}   {:>17.0}   {rate:>13.0}",
                db.label(),
                feeds as f64 / changed.as_secs_f64(),
            );
            if n == 1 {
                one_worker_304.push((db.label(), rate));
            }
        }
        let twice = db
            .count(
                "SELECT count(*) FROM (SELECT article_id FROM versions GROUP BY article_id
                                       HAVING count(*) > 1) t",
            )
            .await?;
        db.drop_database().await;
        if twice > 0 {
            bail!("{twice} articles were stored twice (each article's text never changes)");
        }
    }
    if let [(_, lite), (_, pg)] = one_worker_304[..] {
        println!(
            "one PostgreSQL worker's 304 rate is {:.2} of SQLite's (target ≥ 0.33)",
            pg / lite
        );
    }
    Ok(())
}

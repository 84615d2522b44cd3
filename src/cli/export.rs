//! `figwatch export alerts|figures|versions`: the store as CSV for spreadsheets, or as JSON
//! (one array) or JSON Lines for scripts. Rows are written as they are read.

use std::io::Write;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;

use figwatch::store::Store;

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// What to export
    pub what: What,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Only what is younger than this, e.g. 7d, 12h
    #[arg(long, value_parser = super::parse_age)]
    pub since: Option<Duration>,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum What {
    /// Every alert, figure and source alerts alike
    Alerts,
    /// Every figure found in every stored version
    Figures,
    /// Every stored version of every article, with its text
    Versions,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, with a header row
    Csv,
    /// One JSON array
    Json,
    /// One JSON object a line
    Jsonl,
}

pub fn run(store: &Store, args: &ExportArgs) -> anyhow::Result<()> {
    let since = args.since.map(super::ago);
    let since = since.as_deref();
    let stdout = super::stdout();
    let mut writer = RowWriter::new(args.format, std::io::BufWriter::new(stdout));
    match args.what {
        What::Alerts => store.each_alert(since, |r| writer.row(&r))?,
        What::Figures => store.each_figure(since, None, |r| writer.row(&r))?,
        What::Versions => store.each_version(since, |r| writer.row(&r))?,
    }
    writer.finish()
}

/// Writes rows one by one in the chosen format.
struct RowWriter<W: Write> {
    format: Format,
    csv: Option<csv::Writer<W>>,
    out: Option<W>,
    rows: usize,
}

impl<W: Write> RowWriter<W> {
    fn new(format: Format, out: W) -> RowWriter<W> {
        match format {
            Format::Csv => RowWriter {
                format,
                csv: Some(csv::Writer::from_writer(out)),
                out: None,
                rows: 0,
            },
            _ => RowWriter {
                format,
                csv: None,
                out: Some(out),
                rows: 0,
            },
        }
    }

    fn row<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        if let Some(csv) = &mut self.csv {
            csv.serialize(row)?;
        } else if let Some(out) = &mut self.out {
            if self.format == Format::Json {
                out.write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
            }
            serde_json::to_writer(&mut *out, row)?;
            if self.format == Format::Jsonl {
                out.write_all(b"\n")?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if let Some(csv) = &mut self.csv {
            csv.flush()?;
        }
        if let Some(out) = &mut self.out {
            if self.format == Format::Json {
                out.write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

//! CSV downloads that stream: rows go out as they are read, in chunks, so memory stays
//! flat however many rows there are. UTF-8 with a byte-order mark (Excel opens it as
//! UTF-8 then), CRLF line ends, ISO dates, and every cell a spreadsheet would run as a
//! formula neutralised.
use std::borrow::Cow;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// The longest an export may run: a centre's whole log is well inside it.
pub(crate) const DEADLINE: Duration = Duration::from_secs(120);

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 32 * 1024;

/// Where a streaming export writes its rows; the response reads from it.
pub(crate) struct CsvSink {
    send: mpsc::Sender<Result<Bytes, std::io::Error>>,
    out: Vec<u8>,
}

/// The reader has gone (the browser closed the download): stop reading rows.
#[derive(Debug, thiserror::Error)]
#[error("the download was closed")]
pub struct Closed;

/// A download of `filename` whose rows the caller writes to the sink, from a task of its
/// own (the response is sent at once, and streams as rows come).
pub fn download(filename: &str) -> (CsvSink, Response) {
    let (send, mut receive) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let stream = futures_util::stream::poll_fn(move |cx| receive.poll_recv(cx));
    let response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", safe_filename(filename)),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response();
    let mut out = Vec::with_capacity(CHUNK * 2);
    // The byte-order mark, so that Excel reads the file as UTF-8.
    out.extend_from_slice("\u{feff}".as_bytes());
    (CsvSink { send, out }, response)
}

impl CsvSink {
    /// Writes one row (the header is a row like any other).
    pub async fn row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Closed> {
        let mut line = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(512)
            .from_writer(std::mem::take(&mut self.out));
        line.write_record(cells.into_iter().map(|c| neutralise(c).into_owned()))
            .map_err(|_| Closed)?;
        self.out = line.into_inner().map_err(|_| Closed)?;
        if self.out.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        let chunk = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK * 2));
        if chunk.is_empty() {
            return Ok(());
        }
        self.send
            .send(Ok(Bytes::from(chunk)))
            .await
            .map_err(|_| Closed)
    }

    /// Sends what is left; the download is complete.
    pub async fn finish(mut self) -> Result<(), Closed> {
        self.flush().await
    }

    /// Ends the download as failed: the browser sees an interrupted download, never a
    /// file that looks whole but is not.
    pub async fn fail(self, reason: &str) {
        tracing::error!(reason, "a CSV export failed part way");
        let _ = self
            .send
            .send(Err(std::io::Error::other(reason.to_string())))
            .await;
    }
}

/// A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a leading
/// apostrophe: names and titles are typed by users.
pub(crate) fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Why an export stopped before its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    #[error(transparent)]
    Closed(#[from] Closed),
    #[error("reading the rows failed: {0}")]
    Read(String),
}

impl From<crate::db::DbError> for ExportError {
    fn from(e: crate::db::DbError) -> Self {
        ExportError::Read(e.to_string())
    }
}

impl From<sqlx::Error> for ExportError {
    fn from(e: sqlx::Error) -> Self {
        ExportError::Read(e.to_string())
    }
}

/// Runs `write` in a task of its own, within `DEADLINE`: it writes the rows to the sink
/// and the download is finished when it returns, or ends as failed if it fails or runs
/// out of time. A closed download just stops it.
pub fn spawn<F>(mut sink: CsvSink, write: F)
where
    F: for<'a> FnOnce(&'a mut CsvSink) -> BoxFuture<'a, Result<(), ExportError>> + Send + 'static,
{
    tokio::spawn(async move {
        let outcome = tokio::time::timeout(DEADLINE, write(&mut sink)).await;
        match outcome {
            Ok(Ok(())) => {
                let _ = sink.finish().await;
            }
            Ok(Err(ExportError::Closed(_))) => {}
            Ok(Err(ExportError::Read(reason))) => sink.fail(&reason).await,
            Err(_) => sink.fail("the export ran out of time").await,
        }
    });
}

/// A moment as ISO 8601 in UTC: "2026-11-24T14:05:09Z".
pub(crate) fn iso(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.format(&format).unwrap_or_default()
}

/// Only letters, digits, dots and dashes in a download's name.
fn safe_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[test]
    fn spreadsheet_formulas_are_neutralised() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("+44 7700"), "'+44 7700");
        assert_eq!(neutralise("Zoë Ōtaki-Ngata"), "Zoë Ōtaki-Ngata");
    }

    #[test]
    fn moments_are_iso_in_utc() {
        let at = time::macros::datetime!(2026-11-24 15:05:09 +01:00);
        assert_eq!(iso(at), "2026-11-24T14:05:09Z");
    }

    #[tokio::test]
    async fn a_download_starts_with_the_mark_and_ends_rows_with_crlf() {
        let (mut sink, response) = download("report 1/2.csv");
        let disposition = response.headers()[header::CONTENT_DISPOSITION].clone();
        assert_eq!(disposition, "attachment; filename=\"report-1-2.csv\"");
        let writer = tokio::spawn(async move {
            sink.row(["name", "note"]).await.unwrap();
            for n in 0..3000 {
                let name = format!("Learner {n}");
                sink.row([name.as_str(), "=1+1, \"quoted\""]).await.unwrap();
            }
            sink.finish().await.unwrap();
        });
        let mut body = response.into_body().into_data_stream();
        let mut bytes = Vec::new();
        let mut chunks = 0;
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
            chunks += 1;
        }
        writer.await.unwrap();
        assert!(chunks > 1, "a long file goes out in several chunks");
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("\u{feff}name,note\r\n"));
        assert!(text.contains("Learner 2999,\"'=1+1, \"\"quoted\"\"\"\r\n"));
        assert_eq!(text.matches("\r\n").count(), 3001);
    }

    #[tokio::test]
    async fn a_failed_export_ends_the_download_with_an_error() {
        let (sink, response) = download("x.csv");
        spawn(sink, |sink| {
            Box::pin(async move {
                sink.row(["a"]).await?;
                Err(ExportError::Read("the database went away".into()))
            })
        });
        let mut body = response.into_body().into_data_stream();
        let mut failed = false;
        while let Some(chunk) = body.next().await {
            failed |= chunk.is_err();
        }
        assert!(failed, "the reader sees the download fail");
    }

    #[tokio::test]
    async fn a_closed_download_stops_the_writer() {
        let (mut sink, response) = download("x.csv");
        drop(response);
        let long = "x".repeat(CHUNK);
        assert!(sink.row([long.as_str()]).await.is_err());
    }
}

//! The `ocr_task:{slug}` record shared with the Kalanjiyam web site.
//!
//! This module owns the record's exact JSON shape and the reading of what is
//! found under such a key: our own record, a well-formed record of another
//! application, or junk. Rule: a record we did not write is never deleted.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::keys;

/// Records larger than this are junk: no honest record comes near it.
const MAX_RECORD_BYTES: usize = 16 * 1024;

/// The value of `ocr_task:{slug}`, in the original's field order plus `language`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub task_id: String,
    pub engine: String,
    pub language: String,
    /// ISO 8601 in UTC with its offset, e.g. `2026-12-04T16:21:24.123+00:00`.
    pub started_at: String,
    pub project_slug: String,
}

impl TaskRecord {
    pub fn new(task_id: &str, engine: &str, language: &str, slug: &str) -> TaskRecord {
        TaskRecord {
            task_id: task_id.to_string(),
            engine: engine.to_string(),
            language: language.to_string(),
            started_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, false),
            project_slug: slug.to_string(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether we issued this task id (see [`keys::TASK_ID_PREFIX`]).
    pub fn is_ours(&self) -> bool {
        self.task_id.starts_with(keys::TASK_ID_PREFIX)
    }

    /// The start time, whether or not the writer gave an offset (UTC assumed).
    pub fn started_at_utc(&self) -> Option<DateTime<Utc>> {
        parse_timestamp(&self.started_at)
    }
}

/// What was found under `ocr_task:{slug}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordReading {
    Valid(TaskRecord),
    /// Not a record: why, for the warning that goes with removing it.
    Junk(String),
}

/// The fields as another writer may have sent them: `language` is our
/// addition and the original does not write it.
#[derive(Deserialize)]
struct LooseRecord {
    task_id: String,
    engine: String,
    #[serde(default)]
    language: Option<String>,
    started_at: String,
    project_slug: String,
}

/// Reads a raw value found under the record key of `slug`.
pub fn read_record(slug: &str, raw: &[u8]) -> RecordReading {
    if raw.len() > MAX_RECORD_BYTES {
        return RecordReading::Junk(format!("value is {} bytes long", raw.len()));
    }
    let loose: LooseRecord = match serde_json::from_slice(raw) {
        Ok(loose) => loose,
        Err(error) => return RecordReading::Junk(format!("not a task record: {error}")),
    };
    if loose.task_id.trim().is_empty() {
        return RecordReading::Junk("task_id is empty".to_string());
    }
    if loose.project_slug != slug {
        let message = format!("project_slug '{}' does not match the key", loose.project_slug);
        return RecordReading::Junk(message);
    }
    if parse_timestamp(&loose.started_at).is_none() {
        let message = format!("started_at '{}' is not a timestamp", loose.started_at);
        return RecordReading::Junk(message);
    }
    RecordReading::Valid(TaskRecord {
        task_id: loose.task_id,
        engine: loose.engine,
        language: loose.language.unwrap_or_default(),
        started_at: loose.started_at,
        project_slug: loose.project_slug,
    })
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?;
    Some(naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_json_has_exactly_the_contract_keys_in_order() {
        let record = TaskRecord::new("kdesk-1", "tesseract", "san+eng", "gita");
        let json = record.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5);
        assert!(json.starts_with("{\"task_id\":\"kdesk-1\",\"engine\":\"tesseract\""), "{json}");
        assert!(json.contains("\"language\":\"san+eng\""));
        assert!(record.started_at.ends_with("+00:00"), "{}", record.started_at);
        assert!(record.started_at_utc().is_some());
    }

    #[test]
    fn record_of_the_original_site_without_offset_or_language_is_valid() {
        let raw = br#"{"task_id": "3f2a-celery", "engine": "google",
            "started_at": "2026-12-04T10:00:00.123456", "project_slug": "gita"}"#;
        let RecordReading::Valid(record) = read_record("gita", raw) else {
            panic!("a record of the web site must be accepted");
        };
        assert!(!record.is_ours());
        assert_eq!(record.language, "");
        assert!(record.started_at_utc().is_some());
    }

    #[test]
    fn junk_is_recognised_with_a_reason() {
        let cases: [&[u8]; 5] = [
            b"not json",
            br#"{"task_id": 7, "engine": "x", "started_at": "x", "project_slug": "gita"}"#,
            br#"{"task_id": "a", "engine": "x", "started_at": "yesterday", "project_slug": "gita"}"#,
            br#"{"task_id": "a", "engine": "x", "started_at": "2026-12-04T10:00:00Z", "project_slug": "other"}"#,
            br#"[1, 2, 3]"#,
        ];
        for raw in cases {
            assert!(matches!(read_record("gita", raw), RecordReading::Junk(_)), "{raw:?}");
        }
        let huge = vec![b' '; MAX_RECORD_BYTES + 1];
        let RecordReading::Junk(reason) = read_record("gita", &huge) else {
            panic!("a huge value is junk");
        };
        assert!(reason.contains("bytes"), "{reason}");
    }
}
